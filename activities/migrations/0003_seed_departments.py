"""The district departments the source article names as organisers and partners; staff add
more in the admin."""

from django.db import migrations

DEPARTMENTS = [
    "区委社会工作部",
    "区邮政管理局",
    "区总工会",
    "团区委",
    "区妇联",
    "区市场监管局",
    "区公安分局",
    "区卫健委",
    "区房管局",
]


def seed(apps, schema_editor):
    Department = apps.get_model("activities", "Department")
    for order, name in enumerate(DEPARTMENTS):
        Department.objects.get_or_create(name=name, defaults={"sort_order": order})


def unseed(apps, schema_editor):
    Department = apps.get_model("activities", "Department")
    Department.objects.filter(name__in=DEPARTMENTS, organised=None, partnered=None).delete()


class Migration(migrations.Migration):
    dependencies = [("activities", "0002_activities_partnerships_stories")]

    operations = [migrations.RunPython(seed, unseed)]
