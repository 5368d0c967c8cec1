"""The top-level domains approved for filing, as reference data shipped with its source and
date (``beian/approved_tlds.csv``); the ministry edits them in the admin."""

from django.db import migrations, models


def load_shipped_list(apps, schema_editor):
    from beian.tlds import SHIPPED_DATE, SHIPPED_SOURCE, shipped_top_level_domains

    TopLevelDomain = apps.get_model("beian", "TopLevelDomain")
    TopLevelDomain.objects.bulk_create(
        [
            TopLevelDomain(name=name, source=SHIPPED_SOURCE, listed_on=SHIPPED_DATE)
            for name in dict.fromkeys(shipped_top_level_domains())
        ],
        ignore_conflicts=True,
    )
    from beian.models import bump_top_level_domains_version

    bump_top_level_domains_version()


class Migration(migrations.Migration):

    dependencies = [
        ('beian', '0004_audit_decision_index'),
    ]

    operations = [
        migrations.CreateModel(
            name='TopLevelDomain',
            fields=[
                ('name', models.CharField(help_text='Without the dot, e.g. cn, com or 中国.', max_length=63, primary_key=True, serialize=False, verbose_name='top-level domain')),
                ('source', models.CharField(blank=True, max_length=255, verbose_name='source')),
                ('listed_on', models.DateField(help_text='The date of the list it comes from.', verbose_name='as of')),
            ],
            options={
                'verbose_name': 'approved top-level domain',
                'verbose_name_plural': 'approved top-level domains',
                'ordering': ['name'],
            },
        ),
        migrations.RunPython(load_shipped_list, migrations.RunPython.noop, elidable=False),
    ]
