"""The 31 mainland provinces and the working-day calendar known to chinesecalendar."""

import csv
from pathlib import Path

from django.db import migrations

PROVINCES_CSV = Path(__file__).resolve().parent.parent / "provinces.csv"


def load_provinces(apps, schema_editor):
    Province = apps.get_model("beian", "Province")
    with PROVINCES_CSV.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            Province.objects.update_or_create(
                code=row["code"],
                defaults={
                    "name": row["name"],
                    "name_en": row["name_en"],
                    "abbr": row["abbr"],
                    "bureau_name": f"{row['name']}通信管理局",
                },
            )


def load_calendar(apps, schema_editor):
    from beian.workdays import sync_from_package

    sync_from_package(model=apps.get_model("beian", "CalendarDay"))


class Migration(migrations.Migration):
    dependencies = [("beian", "0001_initial")]

    operations = [
        migrations.RunPython(load_provinces, migrations.RunPython.noop),
        migrations.RunPython(load_calendar, migrations.RunPython.noop),
    ]
