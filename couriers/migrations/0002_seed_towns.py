"""Seed Fengxian's 8 towns and 3 subdistricts."""

from django.db import migrations

from couriers.towns import FENGXIAN_TOWNS, seed_towns


def forwards(apps, schema_editor):
    seed_towns(apps.get_model("couriers", "Town"))


def backwards(apps, schema_editor):
    Town = apps.get_model("couriers", "Town")
    Town.objects.filter(name__in=[name for name, _ in FENGXIAN_TOWNS]).delete()


class Migration(migrations.Migration):
    dependencies = [("couriers", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
