"""Queue the activity reminders that are due: `python manage.py send_reminders [--dry-run]`.

The evening before (19:00–21:00) and 2 hours before an activity, each courier holding a place
is reminded once (activities.programmes.reminders). The worker runs the same sweep every
quarter hour (activities.programmes.tasks.send_reminders); the hourly housekeeping timer runs
this command, which also restarts the worker's chain of sweeps if it was lost.
"""

from django.core.management.base import BaseCommand
from django.db import transaction

from activities.programmes import reminders, tasks


class Rollback(Exception):
    pass


class Command(BaseCommand):
    help = "发送到期的活动提醒（前一天晚上、开始前 2 小时）。"

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="只显示数量，不写入")

    def handle(self, *args, dry_run=False, **options):
        try:
            with transaction.atomic():
                count = reminders.queue_reminders()
                if dry_run:
                    raise Rollback
        except Rollback:
            self.stdout.write(f"将发送 {count} 条活动提醒（试运行，未写入）。")
            return
        tasks.schedule_next()
        self.stdout.write(self.style.SUCCESS(f"已排队 {count} 条活动提醒。"))
