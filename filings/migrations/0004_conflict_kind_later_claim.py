from datetime import UTC, datetime

from django.db import migrations, models


def earlier_side_becomes_a_notice(apps, schema_editor):
    """Open conflicts were recorded on both filings of a pair: the row on the filing submitted
    earlier becomes the notice of the later claim, and only later submissions stay blocked."""
    Conflict = apps.get_model("filings", "Conflict")
    Filing = apps.get_model("filings", "Filing")
    open_rows = list(
        Conflict.objects.filter(resolved_at__isnull=True).values_list(
            "id", "filing_id", "field", "other_filing_id"
        )
    )
    pairs = {(holder, field, other) for _pk, holder, field, other in open_rows}
    ids = {holder for _pk, holder, _f, _o in open_rows} | {o for *_rest, o in open_rows}
    never = datetime(1900, 1, 1, tzinfo=UTC)
    order = {
        pk: (submitted_at or never, pk)
        for pk, submitted_at in Filing.objects.filter(pk__in=ids).values_list("pk", "submitted_at")
    }
    earlier = [
        pk
        for pk, holder, field, other in open_rows
        if (other, field, holder) in pairs and order[holder] < order[other]
    ]
    Conflict.objects.filter(id__in=earlier).update(kind="later_claim")
    still_blocked = set(
        Conflict.objects.filter(resolved_at__isnull=True, kind="conflict").values_list(
            "filing_id", flat=True
        )
    )
    Filing.objects.filter(has_open_conflicts=True).exclude(pk__in=still_blocked).update(
        has_open_conflicts=False
    )


class Migration(migrations.Migration):
    dependencies = [
        ("filings", "0003_filing_decided_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="conflict",
            name="kind",
            field=models.CharField(
                choices=[("conflict", "conflict"), ("later_claim", "later claim")],
                default="conflict",
                max_length=16,
                verbose_name="kind",
            ),
        ),
        migrations.RunPython(earlier_side_becomes_a_notice, migrations.RunPython.noop),
    ]
