"""A ledger entry's holdings: ``holding:units`` pairs as text, read back as lists."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from recalldesk.incidents.models import HoldingsField


def test_holdings_are_written_as_pairs_and_read_back_in_order():
    field = HoldingsField()

    text = field.get_db_prep_value([[1041, 2], [1187, 1]], connection)

    assert text == "1041:2,1187:1"
    assert field.from_db_value(text, None, connection) == [[1041, 2], [1187, 1]]
    assert field.get_db_prep_value([], connection) == ""
    assert field.from_db_value("", None, connection) == []
    assert field.from_db_value(None, None, connection) == []


@pytest.mark.parametrize("bad", ["1041", "1041:2,x:1", "1041:2:3", "[[1041,2]]"])
def test_holdings_that_are_not_pairs_are_refused_with_the_value(bad):
    with pytest.raises(ValidationError, match="holding:units pairs") as error:
        HoldingsField().to_python(bad)

    assert repr(bad) in str(error.value)
