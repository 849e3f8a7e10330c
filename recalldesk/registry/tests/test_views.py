"""The import page: upload, progress, problems and the error report, by role."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from recalldesk.registry.models import ImportRun, Product

pytestmark = pytest.mark.django_db

GOOD = b"sku,gtin,name\nHTR-1,012345678905,Space heater\nKTL-1,4006381333931,Kettle\n"
BAD = b"sku,gtin,name\nHTR-1,012345678906,Space heater\nKTL-1,4006381333931,Kettle\n"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def upload(client, content: bytes, **extra):
    data = {"kind": "products", "file": SimpleUploadedFile("products.csv", content), **extra}
    return client.post(reverse("registry:imports"), data)


def test_a_coordinator_uploads_a_file_and_it_is_imported(
    client, coordinator, django_capture_on_commit_callbacks
):
    client.force_login(coordinator)

    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, GOOD)

    run = ImportRun.objects.get()
    assert response["Location"] == reverse("registry:import_detail", args=[run.uuid])
    assert (run.status, run.created, run.created_by) == ("done", 2, coordinator)
    assert set(Product.objects.values_list("sku", flat=True)) == {"HTR-1", "KTL-1"}
    page = client.get(response["Location"])
    assert page.status_code == 200 and b"Imported" in page.content


def test_a_file_with_errors_changes_nothing_and_names_line_and_column(
    client, coordinator, django_capture_on_commit_callbacks
):
    client.force_login(coordinator)

    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, BAD)

    run = ImportRun.objects.get()
    assert (run.status, run.rows_invalid) == ("rejected", 1)
    assert not Product.objects.exists()
    page = client.get(response["Location"]).content.decode()
    assert "012345678906" in page
    report = client.get(reverse("registry:import_errors", args=[run.uuid]))
    lines = b"".join(report.streaming_content).decode("utf-8-sig").splitlines()
    assert lines[0].startswith("line,column")
    assert lines[1].startswith("2,gtin,012345678906,")


def test_choosing_valid_rows_imports_the_good_rows_only(
    client, coordinator, django_capture_on_commit_callbacks
):
    client.force_login(coordinator)

    with django_capture_on_commit_callbacks(execute=True):
        upload(client, BAD, import_valid_rows="on")

    assert list(Product.objects.values_list("sku", flat=True)) == ["KTL-1"]


def test_an_upload_over_the_size_limit_is_refused_before_it_is_stored(
    client, coordinator, settings
):
    settings.IMPORT_MAX_BYTES = 10
    client.force_login(coordinator)

    response = upload(client, GOOD)

    assert response.status_code == 200
    assert "the limit is 10" in " ".join(response.context["form"].errors["file"])
    assert not ImportRun.objects.exists()


def test_an_agent_cannot_reach_imports(client, agent):
    client.force_login(agent)
    assert client.get(reverse("registry:imports")).status_code == 403
    assert upload(client, GOOD).status_code == 403
    assert not ImportRun.objects.exists()


def test_an_analyst_sees_imports_but_cannot_upload(client, analyst):
    client.force_login(analyst)
    page = client.get(reverse("registry:imports"))
    assert page.status_code == 200 and b"Import a file" not in page.content
    assert upload(client, GOOD).status_code == 403


def test_the_template_lists_the_columns_of_a_kind(client, coordinator):
    client.force_login(coordinator)
    response = client.get(reverse("registry:import_template", args=["holdings"]))
    header = response.content.decode().splitlines()[0]
    assert "external_id" in header and "lot" in header and "serial" in header
