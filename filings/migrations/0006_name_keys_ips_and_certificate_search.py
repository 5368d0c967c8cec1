"""Name keys that truncation cannot make equal, full stops folded as middle dots, IPv4
addresses written in IPv6 stored as IPv4, and an index for the bureau's search by the
sponsor's certificate number.

The published names' search keys become text of any length (NFKC can make a key far longer
than its name: ``㍿`` is four characters). The data: every stored key that may have been cut
at 128 characters, or whose name holds a full stop or dot above that is now folded into the
middle dot (``阿卜杜.热合曼``), is computed again, and so is every IPv6 address list
(``::120.79.1.10`` is ``120.79.1.10``); only changed rows are written.
"""

from django.db import migrations, models
from django.db.models import Q
from django.db.models import TextField
from django.db.models.functions import Cast, Length

BATCH = 5000
DOTS = (".", "．", "˙")


def _batches(queryset, fields):
    last = 0
    while True:
        rows = list(queryset.filter(pk__gt=last).order_by("pk").only("pk", *fields)[:BATCH])
        if not rows:
            return
        yield rows
        last = rows[-1].pk


def _holding_dots(*fields):
    condition = Q()
    for field in fields:
        for dot in DOTS:
            condition |= Q(**{f"{field}__contains": dot})
    return condition


def recompute_keys(apps, schema_editor):
    from beian.normalforms.names import name_key, name_search_key

    Filing = apps.get_model("filings", "Filing")
    PublishedWebsite = apps.get_model("filings", "PublishedWebsite")
    filings = Filing.objects.annotate(key_length=Length("sponsor_name_key")).filter(
        Q(key_length__gte=128) | _holding_dots("sponsor_name")
    )
    for rows in _batches(filings, ["sponsor_name", "sponsor_name_key"]):
        changed = []
        for row in rows:
            key = name_key(row.sponsor_name)
            if key != row.sponsor_name_key:
                row.sponsor_name_key = key
                changed.append(row)
        Filing.objects.bulk_update(changed, ["sponsor_name_key"])
    published = PublishedWebsite.objects.annotate(
        sponsor_length=Length("sponsor_name_search"), website_length=Length("website_name_search")
    ).filter(
        Q(sponsor_length__gte=128)
        | Q(website_length__gte=128)
        | _holding_dots("sponsor_name", "website_name")
    )
    fields = ["sponsor_name", "website_name", "sponsor_name_search", "website_name_search"]
    for rows in _batches(published, fields):
        for row in rows:
            row.sponsor_name_search = name_search_key(row.sponsor_name)
            row.website_name_search = name_search_key(row.website_name)
        PublishedWebsite.objects.bulk_update(rows, fields[2:])


def _ips(ips):
    from beian.normalforms.addresses import normalize_ip

    out = []
    for value in ips or []:
        try:
            text = str(normalize_ip(value))
        except (TypeError, ValueError):
            text = value
        if text not in out:
            out.append(text)
    return out


def recompute_ips(apps, schema_editor):
    Website = apps.get_model("filings", "Website")
    with_ipv6 = Website.objects.annotate(ips_text=Cast("ips", TextField())).filter(
        ips_text__contains="::"
    )
    for rows in _batches(with_ipv6, ["ips"]):
        changed = []
        for row in rows:
            ips = _ips(row.ips)
            if ips != row.ips:
                row.ips = ips
                changed.append(row)
        Website.objects.bulk_update(changed, ["ips"])


class Migration(migrations.Migration):
    dependencies = [
        ("filings", "0005_normal_forms"),
    ]

    operations = [
        migrations.AlterField(
            model_name="publishedwebsite",
            name="sponsor_name_search",
            field=models.TextField(blank=True, editable=False),
        ),
        migrations.AlterField(
            model_name="publishedwebsite",
            name="website_name_search",
            field=models.TextField(blank=True, editable=False),
        ),
        migrations.AddIndex(
            model_name="filing",
            index=models.Index(fields=["sponsor_id_number"], name="filing_sponsor_id_number_idx"),
        ),
        migrations.RunPython(recompute_keys, migrations.RunPython.noop),
        migrations.RunPython(recompute_ips, migrations.RunPython.noop),
    ]
