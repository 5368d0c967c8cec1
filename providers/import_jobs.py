"""Provider imports written (SPEC §6): rows become client accounts with submitted filings.

The rows are checked by ``providers.imports`` (the same rules as the owner's wizard) and the
good ones of a chunk are submitted together through ``filings.submission.filing_submit_many``,
with bulk inserts in one transaction; should the database refuse the chunk, its rows go one at
a time through ``filings.services``, each in its own savepoint. A new account gets a random
initial password, returned once, and must confirm its mobile and email and choose a new
password at first sign-in (Q22).

An uploaded file becomes an ``ImportJob`` whose rows ``providers.tasks.run_import`` processes
a chunk at a time (``import_job_process_chunk``); the task is enqueued by its name, since the
task module imports this one.
"""

from __future__ import annotations

import base64
import functools
import hashlib
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.models import AccessProvider, User
from beian.audit import audit, audit_entry
from beian.celery import app as celery_app
from beian.coded import encode_tree
from beian.models import AuditLog
from beian.queueing import enqueue_on_commit
from filings.models import Application, Filing
from filings.services import FilingError, filing_create, filing_save_data, filing_submit
from filings.submission import Submission, filing_submit_many
from filings.validation import load_reference_data

from .imports import (
    AcceptedRow,
    ImportBatch,
    RowResult,
    attestation_checklist,
    check_client,
    check_row,
    error_dict,
    submitted_datas,
    with_provider_defaults,
)
from .models import ImportJob, ImportRow
from .services import _check_provider_staff, initial_password, set_initial_password

# The name ``providers.tasks.run_import`` is registered under, and enqueued by here.
RUN_IMPORT_TASK = "providers.import.run"


def _new_client(client: dict, provider: AccessProvider, password: str) -> User:
    """The unsaved owner account of a row's clean client part, with its initial password."""
    user = User(
        username=client["username"],
        email=client["email"],
        mobile=client["mobile"],
        role=User.Role.OWNER,
        origin=User.Origin.IMPORT,
        imported_by=provider,
    )
    set_initial_password(user, password)
    return user


def _import_client_audit(filing: Filing, *, by: User, user: User) -> AuditLog:
    """The unsaved audit row of a client account imported with its submitted filing."""
    return audit_entry(
        actor=by,
        action="provider.import_client",
        target=user,
        after={"filing": filing.pk, "provider": filing.filed_by_provider_id},
        province=filing.province_id,
    )


# One row: the owner's services ----------------------------------------------------------------


def _lost_race(*, index: int, key: str, username: str, batch: ImportBatch) -> RowResult:
    """The answer of a row whose username a concurrent import committed first (a provider
    re-sending a batch whose first answer timed out): a repeat when that import was this
    provider's, else the username is taken."""
    winner = (
        User.objects.filter(username__iexact=key, imported_by=batch.provider, role=User.Role.OWNER)
        .select_related("filing")
        .first()
    )
    if winner is None:
        return RowResult(
            index,
            ImportRow.Status.ERROR,
            username=username,
            errors={"client": {"username": [_("This username is taken.")]}},
        )
    batch.remember(key, winner)
    return RowResult(
        index,
        ImportRow.Status.EXISTS,
        username=winner.username,
        filing=getattr(winner, "filing", None),
    )


def _create_and_submit(
    *,
    provider: AccessProvider,
    by: User,
    client: dict,
    password: str,
    filing_data: Any,
    checklist: list[str] | None,
) -> tuple[User, Filing]:
    """The account and its filing through the owner's services, submitted with what the
    provider attests it checked (``checklist``); raises what they raise."""
    user = _new_client(client, provider, password)
    user.save()
    filing = filing_create(owner=user, provider=provider)
    filing = filing_save_data(filing=filing, by=by, data=filing_data)
    filing = filing_submit(filing=filing, by=by)
    if checklist is not None:
        Application.objects.filter(
            filing=filing, closed_at__isnull=True, provider_passed_by=by
        ).update(provider_checklist=checklist)
    _import_client_audit(filing, by=by, user=user).save(force_insert=True)
    return user, filing


def _import_one(
    *, provider: AccessProvider, by: User, index: int, payload: Any, batch: ImportBatch
) -> RowResult:
    """One row through the owner's services, in its own savepoint."""
    settled, client, username, key = check_client(index=index, payload=payload, batch=batch)
    if settled is not None:
        return settled
    checklist, attestation_errors = attestation_checklist(payload)
    if attestation_errors:
        return RowResult(
            index, ImportRow.Status.ERROR, username=username, errors=attestation_errors
        )
    password = initial_password()
    try:
        with transaction.atomic():
            user, filing = _create_and_submit(
                provider=provider,
                by=by,
                client=client,
                password=password,
                filing_data=with_provider_defaults(payload["filing"], provider),
                checklist=checklist,
            )
    except IntegrityError:
        return _lost_race(index=index, key=key, username=username, batch=batch)
    except (FilingError, ValidationError, PermissionDenied) as exc:
        return RowResult(
            index, ImportRow.Status.ERROR, username=username, errors={"filing": error_dict(exc)}
        )
    batch.remember(key, user)
    return RowResult(
        index,
        ImportRow.Status.CREATED,
        username=user.username,
        initial_password=password,
        filing=filing,
    )


# A chunk: the same rules and effects as ``_import_one``, a constant number of queries ---------


def _submit_accepted(*, by: User, accepted: list[tuple[AcceptedRow, User]]) -> None:
    """Insert the accounts of the accepted rows and submit their filings together."""
    User.objects.bulk_create([user for _row, user in accepted])
    submissions = []
    for row, user in accepted:
        row.filing.owner = user
        submissions.append(
            Submission(
                filing=row.filing,
                by=by,
                data=row.data,
                also_audit=functools.partial(_import_client_audit, by=by, user=user),
                checklist=row.checklist,
            )
        )
    filing_submit_many(submissions)


def _import_batch(
    *, provider: AccessProvider, by: User, items: list[tuple[int, Any]]
) -> list[RowResult]:
    """Every row of a chunk, checked in order as ``_import_one`` would, the good ones
    submitted together. Run inside a transaction: a database error leaves the caller to roll
    it back."""
    submitted = submitted_datas(provider, items)
    batch = ImportBatch(provider, [payload for _index, payload in items])
    batch.reference = load_reference_data(data for data, _errors in submitted.values() if data)
    results: list[RowResult] = []
    accepted: list[tuple[AcceptedRow, User]] = []
    for index, payload in items:
        checked = check_row(index=index, payload=payload, batch=batch, submitted=submitted)
        if isinstance(checked, RowResult):
            results.append(checked)
            continue
        password = initial_password()
        user = _new_client(checked.client, provider, password)
        # A repeat of the username later in the chunk answers with this filing.
        user.filing = checked.filing
        results.append(
            RowResult(
                index,
                ImportRow.Status.CREATED,
                username=user.username,
                initial_password=password,
                filing=checked.filing,
            )
        )
        accepted.append((checked, user))
        batch.remember(checked.key, user)
    if accepted:
        _submit_accepted(by=by, accepted=accepted)
    return results


def _import_chunk(
    *, provider: AccessProvider, by: User, items: list[tuple[int, Any]]
) -> list[RowResult]:
    """The chunk in one transaction (a savepoint within the caller's); when the database
    refuses it — an account created meanwhile by a concurrent import, say — it is rolled back
    and its rows go one at a time, so that each row still gets the answer it would alone."""
    try:
        with transaction.atomic():
            return _import_batch(provider=provider, by=by, items=items)
    except DatabaseError:
        batch = ImportBatch(provider, [payload for _index, payload in items])
        return [
            _import_one(provider=provider, by=by, index=index, payload=payload, batch=batch)
            for index, payload in items
        ]


def import_rows(*, provider: AccessProvider, by: User, rows: list[Any]) -> list[RowResult]:
    """Import a batch given by the API (each row ``{"client": {username, email, mobile},
    "filing": SPEC §10 data}``); each row is created whole or not at all. One ``RowResult``
    a row, in order. Raises ``PermissionDenied`` unless ``by`` is active staff of the active
    ``provider``."""
    _check_provider_staff(by, provider)
    # ``cell_errors`` is what a CSV file's parsing found; an API row has no cells.
    rows = [
        {k: v for k, v in row.items() if k != "cell_errors"} if isinstance(row, dict) else row
        for row in rows
    ]
    return _import_chunk(provider=provider, by=by, items=list(enumerate(rows)))


# Jobs (CSV files) -----------------------------------------------------------------------------


def _fernet() -> Fernet:
    digest = hashlib.sha256(f"{settings.SECRET_KEY}:import-passwords".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt_password(password: str) -> str:
    """An initial password encrypted (Fernet, keyed from SECRET_KEY) until it is handed out."""
    return _fernet().encrypt(password.encode()).decode()


def decrypt_password(encrypted: str) -> str:
    """The password ``encrypt_password`` encrypted; empty when it cannot be read (a changed
    SECRET_KEY)."""
    try:
        return _fernet().decrypt(encrypted.encode()).decode()
    except InvalidToken:
        return ""


@transaction.atomic
def import_job_create(
    *, provider: AccessProvider, by: User, rows: list[tuple[int, dict]], filename: str = ""
) -> ImportJob:
    """Save an uploaded file's rows (``(line number, payload)`` pairs from ``parse_csv``) as a
    queued ``ImportJob`` and enqueue its processing after commit (with the broker down the
    import sweeper starts it later). Raises ``PermissionDenied`` unless ``by`` is active staff
    of the active ``provider``."""
    _check_provider_staff(by, provider)
    job = ImportJob.objects.create(
        provider=provider,
        created_by=by,
        source=ImportJob.Source.CSV,
        filename=filename[:255],
        total_rows=len(rows),
    )
    ImportRow.objects.bulk_create(
        [
            ImportRow(job=job, index=i, line=line, payload=payload)
            for i, (line, payload) in enumerate(rows)
        ],
        batch_size=1000,
    )
    audit(
        actor=by,
        action="provider.import_upload",
        target=job,
        after={"filename": job.filename, "rows": job.total_rows},
    )
    # With the broker down the job stays queued and the import sweeper starts it later.
    enqueue_on_commit(celery_app.signature(RUN_IMPORT_TASK), job.pk)
    return job


_RESULT_FIELDS = {
    ImportRow.Status.CREATED: ["status", "username", "filing", "initial_password_sealed"],
    ImportRow.Status.EXISTS: ["status", "username", "filing"],
    ImportRow.Status.ERROR: ["status", "username", "errors"],
}


def import_job_process_chunk(*, job_id: int, limit: int) -> str:
    """Process up to ``limit`` pending rows of a job and return its status (an
    ``ImportJob.Status``: ``running`` while rows remain, ``done``, or ``failed`` when the job
    is gone or the account that uploaded it may no longer import).

    The chunk's rows are claimed in one query and commit together with their results (so a
    long file never holds its locks for long); rows another worker holds are skipped, and
    the counts are recomputed from the rows, so running a chunk twice, or two at once, is
    safe.
    """
    job = ImportJob.objects.select_related("provider", "created_by").filter(pk=job_id).first()
    if job is None:
        return ImportJob.Status.FAILED
    if job.status in (ImportJob.Status.DONE, ImportJob.Status.FAILED):
        return job.status
    try:
        _check_provider_staff(job.created_by, job.provider)
    except PermissionDenied:
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportJob.Status.FAILED,
            # Stored as its message id, read in the reader's language (beian.coded).
            failure=gettext_noop("The account that uploaded this file may no longer import."),
            finished_at=timezone.now(),
            updated_at=timezone.now(),
        )
        return ImportJob.Status.FAILED
    with transaction.atomic():
        # Rows another worker holds are skipped: each row is processed once.
        rows = list(
            ImportRow.objects.select_for_update(skip_locked=True)
            .filter(job=job, status=ImportRow.Status.PENDING)
            .order_by("index")[:limit]
        )
        if rows:
            # The report is read later in its reader's language: messages are made in English
            # (the message ids) and stored as codes with their values (beian.coded).
            with translation.override("en"):
                results = _import_chunk(
                    provider=job.provider,
                    by=job.created_by,
                    items=[(row.index, row.payload) for row in rows],
                )
            for row, result in zip(rows, results, strict=True):
                row.status = result.status
                row.username = result.username[:150]
                row.filing = result.filing
                row.errors = encode_tree(result.errors)
                row.initial_password_sealed = (
                    encrypt_password(result.initial_password) if result.initial_password else ""
                )
            # A pending row holds no filing, errors or password yet: each outcome writes only
            # the fields it sets, which keeps the generated UPDATE small.
            for status, fields in _RESULT_FIELDS.items():
                outcome = [row for row in rows if row.status == status]
                if outcome:
                    ImportRow.objects.bulk_update(outcome, fields)
    return _job_recount(job.pk)


@transaction.atomic
def _job_recount(job_id: int) -> str:
    job = ImportJob.objects.select_for_update().get(pk=job_id)
    counts = dict(
        ImportRow.objects.filter(job=job)
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    pending = counts.get(ImportRow.Status.PENDING, 0)
    job.processed_rows = job.total_rows - pending
    job.created_count = counts.get(ImportRow.Status.CREATED, 0)
    job.exists_count = counts.get(ImportRow.Status.EXISTS, 0)
    job.error_count = counts.get(ImportRow.Status.ERROR, 0)
    if job.status != ImportJob.Status.FAILED:
        job.status = ImportJob.Status.RUNNING if pending else ImportJob.Status.DONE
        if not pending and job.finished_at is None:
            job.finished_at = timezone.now()
    job.save()
    return job.status


@transaction.atomic
def import_job_release_passwords(*, job: ImportJob, by: User) -> dict[int, str]:
    """The initial passwords of the rows this job created, by row index, once: they are
    erased as they are handed out, so a later download shows none. Raises
    ``PermissionDenied`` unless ``by`` is active staff of the job's provider."""
    _check_provider_staff(by, job.provider)
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    rows = list(
        ImportRow.objects.filter(job=job, status=ImportRow.Status.CREATED)
        .exclude(initial_password_sealed="")
        .values_list("index", "initial_password_sealed")
    )
    passwords = {index: decrypt_password(sealed) for index, sealed in rows}
    ImportRow.objects.filter(job=job).exclude(initial_password_sealed="").update(
        initial_password_sealed=""
    )
    if job.status == ImportJob.Status.DONE and job.passwords_released_at is None:
        job.passwords_released_at = timezone.now()
        job.save(update_fields=["passwords_released_at", "updated_at"])
    audit(
        actor=by,
        action="provider.import_passwords_download",
        target=job,
        after={"passwords": len(passwords)},
    )
    return passwords
