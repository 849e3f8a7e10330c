"""Background work of the registry."""

from django_tasks import task

from recalldesk.registry import importing
from recalldesk.registry.models import ImportRun


@task()
def run_import(run_uuid: str) -> dict[str, int]:
    """Check an uploaded registry file row by row, then import it or reject it.

    Safe to run twice: a run that is no longer pending is left as it is.
    """
    run = ImportRun.objects.select_related("created_by").get(uuid=run_uuid)
    importing.run_import(run)
    return {
        "created": run.created,
        "updated": run.updated,
        "unchanged": run.unchanged,
        "rows_invalid": run.rows_invalid,
    }
