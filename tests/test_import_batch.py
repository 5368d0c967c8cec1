"""Provider imports a chunk at a time (SPEC §6): every row keeps the rules and effects of the
one-row path — account, submitted filing, version, audit, emails, conflicts — in a constant
number of queries, and a chunk the database refuses still gives each row its own answer."""

import pytest
from django.core import mail
from django.db import connection, transaction
from django.db.models import Q
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from beian.delivery import NOT_ENQUEUED
from beian.models import AuditLog, Message
from filings.models import Application, Conflict, Domain, Filing, FilingVersion, Website
from filings.serializers import filing_as_json
from filings.services import submission_deadline
from filings.validation import coerce_data, load_reference_data, validate_filing_data
from providers import import_jobs, imports
from providers.models import ImportJob, ImportRow
from tests.providers_support import approved_filing, provider_staff
from tests.test_providers_imports import row

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff():
    return provider_staff()


def job_of(staff, payloads) -> ImportJob:
    return import_jobs.import_job_create(
        provider=staff.provider,
        by=staff,
        rows=[(i + 2, p) for i, p in enumerate(payloads)],
        filename="clients.csv",
    )


def results_of(job) -> list[ImportRow]:
    return list(ImportRow.objects.filter(job=job).order_by("index"))


def bad_rows() -> list[dict]:
    """One row for each way a row fails: client, filing structure, filing content."""
    wrong_check = row(91)
    wrong_check["filing"]["sponsor"]["id_number"] = "91350100M000100Y44"
    bad_mobile = row(92)
    bad_mobile["client"]["mobile"] = "12345"
    not_a_list = row(93)
    not_a_list["filing"]["websites"] = "x"
    commercial = row(94)
    commercial["filing"]["websites"][0]["commercial"] = True
    commercial["filing"]["websites"][0]["domains"] = ["a.github.io", "b..cn"]
    return [wrong_check, bad_mobile, not_a_list, commercial, "not an object", {"client": "x"}]


def test_a_chunk_creates_its_good_rows_with_every_effect_of_a_submission_and_nothing_else(
    staff, django_capture_on_commit_callbacks
):
    good = [row(1), row(2), row(3)]
    payloads = [good[0], *bad_rows(), good[1], good[2]]
    job = job_of(staff, payloads)
    messages_before = Message.objects.count()

    with django_capture_on_commit_callbacks(execute=True):
        assert import_jobs.import_job_process_chunk(job_id=job.pk, limit=100) == "done"

    rows = results_of(job)
    assert [r.status for r in rows] == ["created"] + ["error"] * 6 + ["created", "created"]
    job.refresh_from_db()
    assert (job.created_count, job.error_count, job.processed_rows) == (3, 6, 9)
    assert User.objects.filter(origin=User.Origin.IMPORT).count() == 3
    assert Filing.objects.count() == 3
    assert all(r.filing is None and r.initial_password_sealed == "" for r in rows[1:7])

    for n, result in zip((1, 2, 3), [rows[0], rows[7], rows[8]], strict=True):
        client = User.objects.get(username=f"client{n}")
        assert result.username == client.username
        assert client.password_is_initial and client.password.startswith("pbkdf2_initial$")
        assert client.check_password(import_jobs.decrypt_password(result.initial_password_sealed))
        assert (client.role, client.origin, client.imported_by) == (
            User.Role.OWNER,
            User.Origin.IMPORT,
            staff.provider,
        )
        assert (client.email, client.mobile) == (f"client{n}@client.example.cn", f"136{n:08d}")
        assert client.mobile_verified_at is None and client.email_verified_at is None

        filing = Filing.objects.get(owner=client)
        assert result.filing == filing
        assert filing.status == Filing.Status.PENDING_REVIEW
        assert filing.filed_by_provider == staff.provider
        assert filing.submitted_by == staff
        assert filing.review_deadline == submission_deadline(filing.submitted_at)
        assert (filing.province_id, filing.sponsor_name) == ("11", f"北京客户{n}科技有限公司")
        assert filing.sponsor_name_key == filing.sponsor_name
        assert filing.principal_mobile == f"139{n:08d}"
        assert not filing.has_preapproval and not filing.has_open_conflicts
        website = Website.objects.get(filing=filing)
        assert website.homepage == f"http://www.client{n}-site.cn/"
        assert website.homepage_key == f"www.client{n}-site.cn"
        assert [a.provider for a in website.accesses.all()] == [staff.provider]
        assert [(d.name, d.position) for d in Domain.objects.filter(filing=filing)] == [
            (f"client{n}-site.cn", 0)
        ]

        (version,) = FilingVersion.objects.filter(filing=filing)
        assert (version.seq, version.kind, version.created_by) == (1, "submitted", staff)
        assert version.data == filing_as_json(filing)

        submit = AuditLog.objects.get(action="filing.submit", target_id=str(filing.pk))
        assert (submit.actor, submit.target_type, submit.province_id) == (
            staff,
            "filings.filing",
            "11",
        )
        assert submit.before == {"status": "draft", "review_deadline": None}
        assert submit.after == {
            "status": "pending_review",
            "review_deadline": filing.review_deadline.isoformat(),
            "version": 1,
            "application": Application.objects.get(filing=filing).pk,
        }
        imported = AuditLog.objects.get(action="provider.import_client", target_id=str(client.pk))
        assert (imported.actor, imported.target_type, imported.province_id) == (
            staff,
            "accounts.user",
            "11",
        )
        assert imported.after == {"filing": filing.pk, "provider": staff.provider.pk}

        (message,) = Message.objects.filter(to=client.email)
        assert message.template == "filing_submitted"
        assert (message.status, message.attempts) == (Message.Status.SENT, 1)
        assert filing.review_deadline.isoformat() in message.subject
        assert filing.sponsor_name in message.body and client.username in message.body

    assert Message.objects.count() - messages_before == 3
    assert sorted(m.to[0] for m in mail.outbox) == [
        f"client{n}@client.example.cn" for n in (1, 2, 3)
    ]
    assert AuditLog.objects.filter(action="filing.submit").count() == 3


def without_ids(after: dict) -> dict:
    return {k: v for k, v in after.items() if k not in ("filing", "application")}


def without_run_values(data: dict) -> dict:
    """A filing's JSON without its id, its websites' ids and its application's time of
    submission."""
    data = {k: v for k, v in data.items() if k != "id"}
    data["websites"] = [
        {k: v for k, v in w.items() if k != "id"} for w in data.get("websites") or []
    ]
    if data.get("application"):
        data["application"] = {k: v for k, v in data["application"].items() if k != "submitted_at"}
    return data


def effects(results) -> list:
    """What each row left behind, without the ids that differ from one run to another."""
    out = []
    for result in results:
        item = [result.status, result.username, result.errors, bool(result.initial_password)]
        filing = result.filing
        if filing is not None:
            data = without_run_values(filing_as_json(filing))
            version = FilingVersion.objects.get(filing=filing)
            version_data = without_run_values(version.data)
            owner = filing.owner
            item += [
                data,
                (version.seq, version.kind, version.created_by_id, version_data),
                (owner.role, owner.origin, owner.imported_by_id, owner.password_is_initial),
                (owner.email, owner.mobile, owner.language),
                [
                    (m.template, m.language, m.subject, m.body, m.html_body)
                    for m in Message.objects.filter(to=owner.email).order_by("id")
                ],
                [
                    (a.action, a.actor_id, a.province_id, a.before, without_ids(a.after))
                    for a in AuditLog.objects.filter(
                        Q(action="filing.submit", target_id=str(filing.pk))
                        | Q(
                            action="provider.import_client",
                            target_id=str(owner.pk),
                            after__filing=filing.pk,
                        )
                    ).order_by("id")
                ],
            ]
        out.append(item)
    return out


def test_a_chunk_gives_each_row_the_answer_and_effects_of_the_one_row_path(staff, english):
    existing = approved_filing(domains=["taken-site.cn"])
    same_email = row(3)
    same_email["client"]["email"] = "client2@client.example.cn"
    payloads = [
        row(1),
        *bad_rows(),
        row(1),
        row(2),
        same_email,
        row(4, domain="taken-site.cn"),
    ]

    savepoint = transaction.savepoint()
    batch = imports.ImportBatch(staff.provider, payloads)
    alone = effects(
        [
            import_jobs._import_one(
                provider=staff.provider, by=staff, index=i, payload=p, batch=batch
            )
            for i, p in enumerate(payloads)
        ]
    )
    transaction.savepoint_rollback(savepoint)
    assert not User.objects.filter(origin=User.Origin.IMPORT).exists()

    chunk = effects(import_jobs.import_rows(provider=staff.provider, by=staff, rows=payloads))

    assert [r[0] for r in chunk] == (
        ["created"] + ["error"] * 6 + ["exists", "created", "error", "created"]
    )
    assert chunk == alone
    assert {(c["field"], c["other_filing"]) for c in chunk[-1][4]["conflicts"]} == {
        ("domain", existing.pk),
        ("homepage", existing.pk),
    }


def test_rows_of_one_chunk_sharing_a_domain_conflict_with_each_other_as_if_submitted_in_turn(
    staff, django_capture_on_commit_callbacks
):
    existing = approved_filing(domains=["shared-site.cn"])
    first, second = row(1, domain="shared-site.cn"), row(2, domain="shared-site.cn")
    job = job_of(staff, [first, second])
    with django_capture_on_commit_callbacks(execute=True):
        import_jobs.import_job_process_chunk(job_id=job.pk, limit=100)

    one = Filing.objects.get(owner__username="client1")
    two = Filing.objects.get(owner__username="client2")
    existing.refresh_from_db()
    # The conflicts belong to the later submissions; the earlier filings show notices.
    assert one.has_open_conflicts and two.has_open_conflicts
    assert not existing.has_open_conflicts

    def others(filing, kind=Conflict.Kind.CONFLICT):
        return {
            (c.field, c.other_filing_id)
            for c in Conflict.objects.filter(filing=filing, kind=kind, resolved_at=None)
        }

    assert ("domain", existing.pk) in others(one)
    assert {o for _f, o in others(one)} == {existing.pk}
    assert {o for _f, o in others(one, Conflict.Kind.LATER_CLAIM)} == {two.pk}
    assert {("domain", existing.pk), ("domain", one.pk)} <= others(two)
    assert others(existing) == set()
    assert {("domain", one.pk), ("domain", two.pk)} <= others(existing, Conflict.Kind.LATER_CLAIM)

    # Each version shows the conflicts its submission found: the first row's, those with the
    # filing before it; the second row's, the first row's too.
    def version_conflicts(filing):
        data = FilingVersion.objects.get(filing=filing).data
        return {(c["field"], c["other_filing"]) for c in data["conflicts"]}

    assert ("domain", existing.pk) in version_conflicts(one)
    assert ("domain", two.pk) not in version_conflicts(one)
    assert {("domain", existing.pk), ("domain", one.pk)} <= version_conflicts(two)

    # Each owner is told about the conflicts the submission found, once.
    for filing in (one, two):
        conflict_mail = Message.objects.get(to=filing.owner.email, template="filing_conflict")
        assert "shared-site.cn" in conflict_mail.body
        assert Message.objects.filter(to=filing.owner.email).count() == 2


def test_rows_of_one_chunk_sharing_a_new_domain_record_the_conflict_on_the_later_row(
    staff, django_capture_on_commit_callbacks
):
    job = job_of(staff, [row(1, domain="same-new.cn"), row(2, domain="same-new.cn")])
    with django_capture_on_commit_callbacks(execute=True):
        import_jobs.import_job_process_chunk(job_id=job.pk, limit=100)
    one = Filing.objects.get(owner__username="client1")
    two = Filing.objects.get(owner__username="client2")
    notice = Conflict.objects.get(filing=one, other_filing=two, field="domain")
    assert notice.kind == Conflict.Kind.LATER_CLAIM
    conflict = Conflict.objects.get(filing=two, other_filing=one, field="domain")
    assert conflict.kind == Conflict.Kind.CONFLICT
    assert two.has_open_conflicts and not one.has_open_conflicts
    # The first was submitted before the second existed: no conflict then, no conflict email.
    assert FilingVersion.objects.get(filing=one).data["conflicts"] == []
    assert not Message.objects.filter(to=one.owner.email, template="filing_conflict").exists()
    assert Message.objects.filter(to=two.owner.email, template="filing_conflict").count() == 1
    assert FilingVersion.objects.get(filing=two).data == filing_as_json(two)


def hidden_at_first_look(monkeypatch, username: str) -> None:
    """The chunk reads which accounts exist before ``username`` is committed by a concurrent
    import: its first look misses the account, so the insert itself runs into it."""
    real = imports.ImportBatch.__init__
    looks = []

    def init(self, provider, payloads):
        real(self, provider, payloads)
        if not looks:
            looks.append(1)
            user = User.objects.get(username=username)
            self.mine.pop(username, None)
            self.taken.discard(username)
            self.emails.discard(user.email.lower())
            self.mobiles.discard(user.mobile)

    monkeypatch.setattr(imports.ImportBatch, "__init__", init)


def test_a_username_a_concurrent_import_took_mid_chunk_answers_exists_and_the_rest_is_created(
    staff, monkeypatch, django_capture_on_commit_callbacks
):
    (winner,) = import_jobs.import_rows(provider=staff.provider, by=staff, rows=[row(2)])
    hidden_at_first_look(monkeypatch, "client2")
    job = job_of(staff, [row(1), row(2), row(3)])
    with django_capture_on_commit_callbacks(execute=True):
        assert import_jobs.import_job_process_chunk(job_id=job.pk, limit=100) == "done"

    rows = results_of(job)
    assert [r.status for r in rows] == ["created", "exists", "created"]
    assert rows[1].filing == winner.filing and rows[1].initial_password_sealed == ""
    assert User.objects.filter(username="client2").count() == 1
    assert Filing.objects.count() == 3
    for n in (1, 2, 3):
        email = f"client{n}@client.example.cn"
        assert Message.objects.filter(to=email, template="filing_submitted").count() == 1
    assert AuditLog.objects.filter(action="provider.import_client").count() == 3
    assert FilingVersion.objects.count() == 3


def test_a_username_another_provider_took_mid_chunk_is_an_error_for_that_row_only(
    staff, monkeypatch
):
    other = provider_staff()
    import_jobs.import_rows(provider=other.provider, by=other, rows=[row(2)])
    hidden_at_first_look(monkeypatch, "client2")
    results = import_jobs.import_rows(provider=staff.provider, by=staff, rows=[row(1), row(2)])
    assert [r.status for r in results] == ["created", "error"]
    assert "username" in results[1].errors["client"]
    assert User.objects.get(username="client2").imported_by == other.provider
    assert Filing.objects.filter(filed_by_provider=staff.provider).count() == 1


def chunk_queries(staff, n: int, first: int) -> int:
    job = job_of(staff, [row(i) for i in range(first, first + n)])
    with CaptureQueriesContext(connection) as queries:
        assert import_jobs.import_job_process_chunk(job_id=job.pk, limit=n) == "done"
    assert ImportJob.objects.get(pk=job.pk).created_count == n
    return len(queries)


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite splits a bulk insert into batches by its limit on query parameters",
)
def test_a_chunk_costs_the_same_number_of_queries_whatever_its_size(staff):
    approved_filing(domains=["client5-site.cn"])  # a conflict in each chunk
    approved_filing(domains=["client105-site.cn"])
    small = chunk_queries(staff, 10, first=1)
    large = chunk_queries(staff, 50, first=100)
    assert large == small
    assert small <= 40


def test_running_a_finished_chunk_again_changes_nothing(staff, django_capture_on_commit_callbacks):
    job = job_of(staff, [row(1), bad_rows()[0], row(2)])
    with django_capture_on_commit_callbacks(execute=True):
        import_jobs.import_job_process_chunk(job_id=job.pk, limit=100)
    before = [
        (r.status, r.username, r.filing_id, r.errors, r.initial_password_sealed)
        for r in results_of(job)
    ]
    counts = [m.objects.count() for m in (User, Filing, FilingVersion, AuditLog, Message)]

    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert import_jobs.import_job_process_chunk(job_id=job.pk, limit=100) == "done"
    assert callbacks == []
    after = [
        (r.status, r.username, r.filing_id, r.errors, r.initial_password_sealed)
        for r in results_of(job)
    ]
    assert after == before
    assert [m.objects.count() for m in (User, Filing, FilingVersion, AuditLog, Message)] == counts


def test_rows_another_worker_holds_are_left_to_it(staff):
    job = job_of(staff, [row(1), row(2), row(3)])
    held = ImportRow.objects.get(job=job, index=1)
    # The other worker's claim, seen from here: the row is no longer pending when we look.
    ImportRow.objects.filter(pk=held.pk).update(status=ImportRow.Status.EXISTS)
    assert import_jobs.import_job_process_chunk(job_id=job.pk, limit=100) == "done"
    assert [r.status for r in results_of(job)] == ["created", "exists", "created"]
    assert not User.objects.filter(username="client2").exists()


def test_the_emails_of_a_chunk_wait_for_the_sweeper_when_the_broker_is_down(
    staff, monkeypatch, django_capture_on_commit_callbacks
):
    from beian import tasks
    from tests.test_faults import BrokerDown

    calls = []

    class CountingBrokerDown(BrokerDown):
        def delay(self, *args):
            calls.append(args)
            super().delay(*args)

    send_message = tasks.send_message
    monkeypatch.setattr(tasks, "send_message", CountingBrokerDown())
    job = job_of(staff, [row(1), row(2), row(3)])
    with django_capture_on_commit_callbacks(execute=True):
        assert import_jobs.import_job_process_chunk(job_id=job.pk, limit=100) == "done"
    assert len(calls) == 1  # the broker is not asked again for every message
    queued = Message.objects.filter(template="filing_submitted")
    assert queued.count() == 3
    assert set(queued.values_list("status", "last_error")) == {("queued", NOT_ENQUEUED)}

    monkeypatch.setattr(tasks, "send_message", send_message)
    assert tasks.sweep_queued_messages() == 3
    assert set(queued.values_list("status", flat=True)) == {"sent"}
    assert len(mail.outbox) == 3


def test_validation_with_reference_data_loaded_once_answers_as_it_does_alone(staff):
    datas = []
    for payload in [row(1), *bad_rows()[:1], *bad_rows()[3:4]]:
        data = coerce_data(payload["filing"])
        data["websites"][0]["access_provider"] = staff.provider.pk
        datas.append(data)
    datas[0]["websites"][0]["access_provider"] = 999999
    reference = load_reference_data(datas)
    filing = Filing()
    for data in datas:
        assert validate_filing_data(data, filing=filing, reference=reference) == (
            validate_filing_data(data, filing=filing)
        )
    assert "access_provider" in validate_filing_data(datas[0], filing=filing)[1]["websites"][0]


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="concurrency needs PostgreSQL row locks"
)
@pytest.mark.django_db(transaction=True)
def test_two_workers_on_one_job_process_every_row_exactly_once():
    from tests.test_faults import run_at_once

    staff = provider_staff()
    # The job's rows without the task import_job_create would enqueue: the two "workers" here
    # are the only ones.
    job = ImportJob.objects.create(
        provider=staff.provider, created_by=staff, source=ImportJob.Source.CSV, total_rows=8
    )
    ImportRow.objects.bulk_create(
        ImportRow(job=job, index=i, line=i + 2, payload=row(i + 1)) for i in range(8)
    )

    answers = run_at_once(
        lambda: import_jobs.import_job_process_chunk(job_id=job.pk, limit=4),
        lambda: import_jobs.import_job_process_chunk(job_id=job.pk, limit=4),
    )

    assert not [a for a in answers if isinstance(a, Exception)], answers
    assert import_jobs.import_job_process_chunk(job_id=job.pk, limit=4) == "done"
    assert [r.status for r in results_of(job)] == ["created"] * 8
    assert User.objects.filter(origin=User.Origin.IMPORT).count() == 8
    assert Filing.objects.count() == FilingVersion.objects.count() == 8
    assert Message.objects.filter(template="filing_submitted").count() == 8
    assert AuditLog.objects.filter(action="provider.import_client").count() == 8
