"""Importing the registry: products, customers, consignees and holdings from CSV and Excel
files, or from batches of rows pushed through the API.

A file is imported in two passes. Pass 1 streams the file row by row, checks every row and
spools the cleaned valid rows to a temporary file; problems and progress are saved as it goes,
outside any transaction, so the import page can show them. Pass 2 reads the spool back and
upserts it in batches inside one transaction: a file is imported whole (or its valid rows, when
asked) or not at all.

Rows are matched on their key (external id; SKU for products) and only the columns present in
the file are compared and written. Importing the same file twice changes nothing, and a file
with fewer columns leaves the other fields of existing rows alone.

This module runs an import; the pieces it uses live beside it: the columns of each kind in
``columns``, value checks in ``cleaning``, row checks in ``checking``, reading files in
``readers`` and writing rows in ``upsert``.
"""

from __future__ import annotations

import csv
import pickle
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import PurePath
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from recalldesk.audit.models import ChangeRecord, record_change
from recalldesk.registry.checking import Context, build_context, check_row, load_lookups
from recalldesk.registry.choices import ImportKind, ImportStatus
from recalldesk.registry.cleaning import Problem
from recalldesk.registry.columns import COLUMNS as COLUMNS
from recalldesk.registry.columns import _aliases, _Echo, normalise_header
from recalldesk.registry.columns import template_csv as template_csv
from recalldesk.registry.models import ImportProblem, ImportRun
from recalldesk.registry.readers import Refused, open_records
from recalldesk.registry.upsert import ImportOutcome, set_parents, write_batch

EXTENSIONS = (".csv", ".txt", ".xlsx")
MAX_PROBLEMS = 10_000
API_MAX_ROWS = 5_000
PROBLEM_FLUSH = 1_000

Progress = Callable[[ImportRun], None]


# --- Running an import ---------------------------------------------------------------------


class ProblemLog:
    """The problems of one run, saved in batches and kept up to ``MAX_PROBLEMS`` rows."""

    def __init__(self, run: ImportRun) -> None:
        self.run = run
        self.pending: list[ImportProblem] = []
        self.kept = 0

    def add(self, problems: Iterable[Problem]) -> None:
        for problem in problems:
            if self.kept + len(self.pending) >= MAX_PROBLEMS:
                return
            self.pending.append(
                ImportProblem(
                    run=self.run,
                    line=problem.line or 0,
                    column=problem.column[:100],
                    value=problem.value[:200],
                    message=problem.message[:300],
                )
            )
        if len(self.pending) >= PROBLEM_FLUSH:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            ImportProblem.objects.bulk_create(self.pending)
            self.kept += len(self.pending)
            self.pending = []


def check_can_import(user: Any) -> None:
    """Staff whose role may import, or the system (``None``), import registry rows."""
    if user is not None and not user.has_perm("registry.add_importrun"):
        raise PermissionDenied("Your role does not allow importing registry rows.")


def check_import_file(uploaded_file: File) -> None:
    """Refuse a file by its name and size, before anything is read."""
    name = PurePath(uploaded_file.name or "").name
    suffix = PurePath(name).suffix.lower()
    if suffix == ".xls":
        raise ValidationError(
            "Old Excel .xls files cannot be read: save the sheet as .xlsx, or as CSV UTF-8.",
            code="file_type",
        )
    if suffix not in EXTENSIONS:
        raise ValidationError(
            f"{name or 'This file'} is not a CSV (.csv, .txt) or Excel (.xlsx) file.",
            code="file_type",
        )
    size = uploaded_file.size or 0
    if size > settings.IMPORT_MAX_BYTES:
        raise ValidationError(
            f"The file is {filesizeformat(size)}; the limit is "
            f"{filesizeformat(settings.IMPORT_MAX_BYTES)}. Split it into smaller files.",
            code="file_size",
        )
    if not size:
        raise ValidationError("The file is empty.", code="empty")


def create_import(
    user: Any, kind: str, uploaded_file: File, import_valid_rows: bool = False
) -> ImportRun:
    """Store an uploaded file as a pending import; ``run_import`` checks and imports it."""
    check_can_import(user)
    if kind not in ImportKind.values:
        raise ValidationError(f"Unknown import kind {kind!r}.", code="kind")
    check_import_file(uploaded_file)
    name = PurePath(uploaded_file.name or "import.csv").name
    run = ImportRun(
        kind=kind,
        original_name=name[:255],
        size_bytes=uploaded_file.size or 0,
        import_valid_rows=import_valid_rows,
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )
    # A name of our own: the original may be long or strange, and is kept in original_name.
    run.file.save(
        f"{kind}-{run.uuid.hex[:12]}{PurePath(name).suffix.lower()}", uploaded_file, save=False
    )
    run.save()
    return run


def run_import(run: ImportRun, progress: Progress | None = None) -> ImportRun:
    """Check every row of ``run``'s file, then import it whole (or its valid rows) or reject it.

    Does nothing when the run is no longer pending (another worker claimed it).
    ``progress`` is called with the run after every batch of each pass.
    """
    claimed = ImportRun.objects.filter(pk=run.pk, status=ImportStatus.PENDING).update(
        status=ImportStatus.VALIDATING
    )
    if not claimed:
        run.refresh_from_db()
        return run
    run.status = ImportStatus.VALIDATING
    log = ProblemLog(run)
    notes: list[str] = []
    try:
        with tempfile.TemporaryFile() as spool:
            try:
                ctx = _check_file(run, log, spool, notes, progress)
            except Refused as exc:
                log.flush()
                if exc.line is not None:
                    log.add([Problem(exc.line, "", "", exc.message)])
                    log.flush()
                return _finish(run, ImportStatus.REJECTED, [exc.message, *notes])
            log.flush()
            if run.rows_invalid and not run.import_valid_rows:
                message = (
                    f"{run.rows_invalid:,} of {run.rows_total:,} rows have errors, so nothing "
                    "was imported. Correct them and upload the file again, or choose to "
                    "import the valid rows."
                )
                return _finish(run, ImportStatus.REJECTED, [message, *notes])
            if run.rows_invalid == run.rows_total:
                return _finish(run, ImportStatus.REJECTED, ["No row is valid.", *notes])
            with transaction.atomic():
                _import_spool(run, ctx, spool, progress)
                left_out = ""
                if run.rows_invalid:
                    left_out = f"{run.rows_invalid:,} rows with errors were left out."
                return _finish(run, ImportStatus.DONE, [left_out, *notes])
    except Exception as exc:
        _fail(run, exc)
        raise


def _check_file(
    run: ImportRun, log: ProblemLog, spool: IO[bytes], notes: list[str], progress: Progress | None
) -> Context:
    """Pass 1: check every row, log the problems and spool the cleaned valid rows."""
    size = run.file.size
    if size > settings.IMPORT_MAX_BYTES:
        raise Refused(
            f"The file is {filesizeformat(size)}: files over "
            f"{filesizeformat(settings.IMPORT_MAX_BYTES)} are refused before reading."
        )
    batch_size = settings.IMPORT_BATCH_SIZE
    with open_records(run) as (records, estimate, file_notes):
        notes.extend(file_notes)
        _save_progress(run, 0, estimate, progress)
        first = next(records, None)
        if first is None:
            raise Refused("The file is empty.", 1)
        header_line, header = first
        ctx, problems, header_notes = build_context(run.kind, header, header_line)
        notes.extend(header_notes)
        if problems:
            log.add(problems)
            raise Refused(" ".join(problem.message for problem in problems))
        load_lookups(ctx)
        batch: list[tuple[Any, ...]] = []
        rows = 0
        for line, cells in records:
            rows += 1
            values, problems = check_row(ctx, line, cells)
            if values is None:
                run.rows_invalid += 1
                log.add(problems)
            else:
                batch.append(values)
                if len(batch) >= batch_size:
                    pickle.dump(batch, spool, pickle.HIGHEST_PROTOCOL)
                    batch = []
            if rows % batch_size == 0:
                _save_progress(run, rows, max(estimate, rows), progress)
        if batch:
            pickle.dump(batch, spool, pickle.HIGHEST_PROTOCOL)
        if not rows:
            raise Refused("The file has its header line but no rows under it.", header_line)
        _save_progress(run, rows, rows, progress)
    return ctx


def _save_progress(run: ImportRun, processed: int, total: int, progress: Progress | None) -> None:
    run.rows_processed = processed
    run.rows_total = total
    run.save(update_fields=["rows_processed", "rows_total", "rows_invalid"])
    if progress:
        progress(run)


def _spooled(spool: IO[bytes]) -> Iterator[list[tuple[Any, ...]]]:
    spool.seek(0)
    while True:
        try:
            yield pickle.load(spool)  # our own temporary file
        except EOFError:
            return


def _import_spool(
    run: ImportRun, ctx: Context, spool: IO[bytes], progress: Progress | None
) -> None:
    """Pass 2: upsert the spooled rows batch by batch (the caller holds the transaction)."""
    run.status = ImportStatus.IMPORTING
    run.rows_processed = run.rows_invalid  # rows with errors count as dealt with
    run.save(update_fields=["status", "rows_processed"])
    if progress:
        progress(run)
    tally = ImportOutcome()
    links: list[tuple[str, str]] = []
    for batch in _spooled(spool):
        links.extend(write_batch(ctx, batch, tally))
        run.rows_processed += len(batch)
        run.created, run.updated, run.unchanged = tally.created, tally.updated, tally.unchanged
        run.save(update_fields=["rows_processed", "created", "updated", "unchanged"])
        if progress:
            progress(run)
    if links:
        set_parents(links)


def _finish(run: ImportRun, status: str, messages: list[str]) -> ImportRun:
    run.status = status
    run.finished_at = timezone.now()
    run.message = " ".join(message for message in messages if message)
    run.save(
        update_fields=[
            "status",
            "finished_at",
            "message",
            "rows_total",
            "rows_processed",
            "rows_invalid",
            "created",
            "updated",
            "unchanged",
        ]
    )
    figures = {
        "status": status,
        "created": run.created,
        "updated": run.updated,
        "unchanged": run.unchanged,
        "rows_invalid": run.rows_invalid,
    }
    record_change(
        run.created_by,
        run,
        ChangeRecord.Action.IMPORTED,
        {name: [None, value] for name, value in figures.items()},
        note=run.message,
    )
    return run


def _fail(run: ImportRun, exc: Exception) -> None:
    run.status = ImportStatus.FAILED
    run.finished_at = timezone.now()
    run.message = f"The import stopped on an unexpected error and changed nothing: {exc}"[:2000]
    run.save(update_fields=["status", "finished_at", "message"])


# --- Batches from the API ------------------------------------------------------------------


def import_rows(kind: str, rows: Iterable[dict[str, Any]], actor: Any) -> ImportOutcome:
    """Check and upsert one batch of rows pushed as JSON: all of it, or nothing.

    Each row's fields are the template's column names or their aliases. Problems carry the
    row's index in the batch (from 0) as their line. A field given in some rows of a batch is
    blank in the rows that leave it out. A batch that writes leaves an import run and a
    history row, like a file.
    """
    check_can_import(actor)
    rows = list(rows)
    outcome = ImportOutcome()
    if not rows:
        outcome.problems.append(Problem(None, "", "", "The batch has no rows."))
    if len(rows) > API_MAX_ROWS:
        message = f"A batch has at most {API_MAX_ROWS:,} rows."
        outcome.problems.append(Problem(None, "", "", message))
    if outcome.problems:
        return outcome
    mapped = [_map_fields(kind, index, row, outcome.problems) for index, row in enumerate(rows)]
    header = list(dict.fromkeys(name for fields in mapped for name in fields))
    ctx, header_problems, _ = build_context(kind, header, None)
    ctx.where = "row"
    outcome.problems.extend(header_problems)
    if outcome.problems:
        return outcome
    load_lookups(ctx)
    checked = []
    for index, fields in enumerate(mapped):
        values, row_problems = check_row(ctx, index, [fields.get(name) for name in header])
        outcome.problems.extend(row_problems)
        if values is not None:
            checked.append(values)
    if outcome.problems:
        return outcome
    batch_size = settings.IMPORT_BATCH_SIZE
    with transaction.atomic():
        links: list[tuple[str, str]] = []
        for start in range(0, len(checked), batch_size):
            links.extend(write_batch(ctx, checked[start : start + batch_size], outcome))
        if links:
            set_parents(links)
        run = ImportRun.objects.create(
            kind=kind,
            original_name=f"API batch of {len(rows):,} {kind}",
            status=ImportStatus.PENDING,
            rows_total=len(rows),
            rows_processed=len(rows),
            created=outcome.created,
            updated=outcome.updated,
            unchanged=outcome.unchanged,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        outcome.run = _finish(run, ImportStatus.DONE, [])
    return outcome


def _map_fields(kind: str, index: int, row: Any, problems: list[Problem]) -> dict[str, Any]:
    """One API row by column name. An unknown field is a problem, not silently dropped."""
    if not isinstance(row, dict):
        problems.append(Problem(index, "", "", "A row is an object of fields."))
        return {}
    aliases = _aliases(kind)
    fields: dict[str, Any] = {}
    given: dict[str, str] = {}
    for key, value in row.items():
        name = aliases.get(normalise_header(str(key)))
        if name is None:
            problems.append(Problem(index, str(key), "", "Unknown field."))
        elif name in fields:
            message = f"The fields {given[name]!r} and {key!r} both give {name}; keep one."
            problems.append(Problem(index, str(key), "", message))
        else:
            fields[name] = value
            given[name] = str(key)
    return fields


# --- Reports -------------------------------------------------------------------------------


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _defuse(text: str) -> str:
    # Spreadsheets run a cell that starts like a formula; a leading quote keeps it text.
    return f"'{text}" if text.startswith(_FORMULA_START) else text


def error_report_csv(run: ImportRun) -> Iterator[str]:
    """The run's problems as CSV (line, column, value, message), streamed line by line.

    It starts with a byte order mark so that Excel reads it as UTF-8.
    """
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(["line", "column", "value", "message"])
    problems = run.problems.order_by("line", "id").values_list("line", "column", "value", "message")
    for line, column, value, message in problems.iterator(chunk_size=2_000):
        yield writer.writerow([line, _defuse(column), _defuse(value), message])
