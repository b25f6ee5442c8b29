"""Check-in points get a stored poster token (issue 16): no longer a signature made with
SECRET_KEY, so a new key voids no printed poster. Each existing point keeps, as its token, the
signed token its printed posters already carry (computed here with the key in force at the
upgrade), so nothing already on a wall stops working."""

from django.core import signing
from django.db import migrations, models

import stations.models.checkin


def keep_printed_tokens(apps, schema_editor):
    CheckinPoint = apps.get_model("stations", "CheckinPoint")
    signer = signing.Signer(salt="stations.checkin-point", sep=".")  # the old POINT_SIGNER
    for point in CheckinPoint.objects.all().only("pk"):
        point.poster_token = signer.sign(str(point.pk))
        point.save(update_fields=["poster_token"])


class Migration(migrations.Migration):
    dependencies = [("stations", "0004_checkin")]

    operations = [
        migrations.AddField(
            model_name="checkinpoint",
            name="poster_token",
            field=models.CharField(
                editable=False, max_length=64, null=True, verbose_name="海报二维码令牌"
            ),
        ),
        migrations.RunPython(keep_printed_tokens, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="checkinpoint",
            name="poster_token",
            field=models.CharField(
                default=stations.models.checkin.new_poster_token,
                editable=False,
                max_length=64,
                unique=True,
                verbose_name="海报二维码令牌",
            ),
        ),
    ]
