"""Background work of incidents."""

from django_tasks import task

from recalldesk.audit.models import ChangeRecord, record_change
from recalldesk.incidents.matching import build_ledger
from recalldesk.incidents.models import MatchRun


@task()
def match_incident(run_uuid: str) -> dict[str, int]:
    """Match an incident's scope against every holding and store its ledger."""
    run = MatchRun.objects.select_related("incident", "requested_by").get(uuid=run_uuid)
    build_ledger(run)
    figures = {
        "holdings": run.holdings_matched,
        "parties": run.parties_affected,
        "units": run.units_affected,
        "newly_affected": run.newly_affected,
        "no_longer_affected": run.no_longer_affected,
        "still_affected": run.still_affected,
    }
    record_change(
        run.requested_by,
        run.incident,
        ChangeRecord.Action.MATCHED,
        {key: [None, value] for key, value in figures.items()},
        note=f"scope v{run.scope_version}",
    )
    if run.incident.is_service:
        # Credits need no claim: accounts the rematch added get theirs now.
        from recalldesk.remedies.credits import apply_for_incident

        apply_for_incident(run.incident.pk)
    return figures
