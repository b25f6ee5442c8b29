"""Seed the managed list of station services."""

from django.db import migrations

from stations.services_seed import SERVICES, seed_services


def forwards(apps, schema_editor):
    seed_services(apps.get_model("stations", "Service"))


def backwards(apps, schema_editor):
    apps.get_model("stations", "Service").objects.filter(
        name__in=[name for name, _ in SERVICES]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("stations", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
