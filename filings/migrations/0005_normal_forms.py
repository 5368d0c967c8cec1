"""One normal form for names, homepages and addresses (``beian.normalforms``).

The schema: the certificate type ``foreign_permanent_resident`` (a longer code) and the
published names' search keys. The data: every stored filing brought to the new forms, so
that conflict checks and the public query work for filings stored before the change —
sponsor name keys (middle dots, spaces between Chinese characters, Traditional characters),
homepage keys, IPv4-mapped IPv6 addresses written as the IPv4 address, and the search keys
of the published copy. Rows are read in id order in batches and only changed rows written.
"""

from django.db import migrations, models

BATCH = 5000


def _batches(queryset, fields):
    last = 0
    while True:
        rows = list(queryset.filter(pk__gt=last).order_by("pk").only("pk", *fields)[:BATCH])
        if not rows:
            return
        yield rows
        last = rows[-1].pk


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


def to_normal_forms(apps, schema_editor):
    from beian.normalforms.domains import homepage_key
    from beian.normalforms.names import name_key

    Filing = apps.get_model("filings", "Filing")
    Website = apps.get_model("filings", "Website")
    PublishedWebsite = apps.get_model("filings", "PublishedWebsite")
    for rows in _batches(Filing.objects.all(), ["sponsor_name", "sponsor_name_key"]):
        changed = []
        for row in rows:
            key = name_key(row.sponsor_name)
            if key != row.sponsor_name_key:
                row.sponsor_name_key = key
                changed.append(row)
        Filing.objects.bulk_update(changed, ["sponsor_name_key"])
    # Run on a schema where the IP addresses are the accesses' (filings 0012), those are
    # brought to their normal form.
    has_ips = any(f.name == "ips" for f in Website._meta.get_fields())
    website_fields = ["homepage", "homepage_key", *(["ips"] if has_ips else [])]
    for rows in _batches(Website.objects.all(), website_fields):
        changed = []
        for row in rows:
            key = homepage_key(row.homepage)
            ips = _ips(row.ips) if has_ips else None
            if key != row.homepage_key or (has_ips and ips != row.ips):
                row.homepage_key = key
                if has_ips:
                    row.ips = ips
                changed.append(row)
        Website.objects.bulk_update(changed, website_fields[1:])
    if not has_ips:
        Access = apps.get_model("filings", "Access")
        for rows in _batches(Access.objects.all(), ["ips"]):
            changed = []
            for row in rows:
                ips = _ips(row.ips)
                if ips != row.ips:
                    row.ips = ips
                    changed.append(row)
            Access.objects.bulk_update(changed, ["ips"])
    fields = ["sponsor_name", "website_name", "sponsor_name_search", "website_name_search"]
    for rows in _batches(PublishedWebsite.objects.all(), fields):
        for row in rows:
            row.sponsor_name_search = name_key(row.sponsor_name)
            row.website_name_search = name_key(row.website_name)
        PublishedWebsite.objects.bulk_update(rows, fields[2:])


class Migration(migrations.Migration):

    dependencies = [
        ('filings', '0004_conflict_kind_later_claim'),
    ]

    operations = [
        migrations.AddField(
            model_name='publishedwebsite',
            name='sponsor_name_search',
            field=models.CharField(blank=True, editable=False, max_length=128),
        ),
        migrations.AddField(
            model_name='publishedwebsite',
            name='website_name_search',
            field=models.CharField(blank=True, editable=False, max_length=128),
        ),
        migrations.AlterField(
            model_name='filing',
            name='principal_id_type',
            field=models.CharField(blank=True, choices=[('uscc', 'unified social credit code'), ('resident_id', 'resident identity card'), ('passport', 'passport'), ('hk_macao_permit', 'Mainland travel permit for Hong Kong and Macao residents'), ('taiwan_permit', 'Mainland travel permit for Taiwan residents'), ('foreign_permanent_resident', 'Foreign Permanent Resident ID Card'), ('other', 'other')], max_length=32, verbose_name="responsible person's certificate type"),
        ),
        migrations.AlterField(
            model_name='filing',
            name='sponsor_id_type',
            field=models.CharField(blank=True, choices=[('uscc', 'unified social credit code'), ('resident_id', 'resident identity card'), ('passport', 'passport'), ('hk_macao_permit', 'Mainland travel permit for Hong Kong and Macao residents'), ('taiwan_permit', 'Mainland travel permit for Taiwan residents'), ('foreign_permanent_resident', 'Foreign Permanent Resident ID Card'), ('other', 'other')], max_length=32, verbose_name='certificate type'),
        ),
        migrations.RunPython(to_normal_forms, migrations.RunPython.noop, elidable=False),
    ]
