"""Activities get a stored attendance token (issue 16): no longer a signature made with
SECRET_KEY, so a new key voids no printed 签到码. Each existing activity keeps, as its token,
the signed token its printed codes already carry (computed with the key in force at the
upgrade)."""

from django.core import signing
from django.db import migrations, models

import stations.models.checkin


def keep_printed_tokens(apps, schema_editor):
    Activity = apps.get_model("activities", "Activity")
    signer = signing.Signer(salt="activities.attendance", sep=".")  # the old attendance signer
    for activity in Activity.objects.all().only("pk"):
        activity.attendance_token = signer.sign(str(activity.pk))
        activity.save(update_fields=["attendance_token"])


class Migration(migrations.Migration):
    dependencies = [
        ("activities", "0006_activity_cancelled"),
        ("stations", "0005_checkinpoint_poster_token"),
    ]

    operations = [
        migrations.AddField(
            model_name="activity",
            name="attendance_token",
            field=models.CharField(
                editable=False, max_length=64, null=True, verbose_name="签到码令牌"
            ),
        ),
        migrations.RunPython(keep_printed_tokens, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="activity",
            name="attendance_token",
            field=models.CharField(
                default=stations.models.checkin.new_poster_token,
                editable=False,
                max_length=64,
                unique=True,
                verbose_name="签到码令牌",
            ),
        ),
    ]
