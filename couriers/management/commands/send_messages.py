"""Send the outbox's messages that are due: `python manage.py send_messages [--dry-run]`.

The worker (`manage.py db_worker`) sends messages as they are queued and wakes itself for
those that wait (backoff, quiet hours, the daily cap); this command is the safety net, run
hourly by deploy/systemd/fengxian-housekeeping.timer, and it asks the worker for the next
round too. Each message is claimed under a row lock, so running it beside the worker never
sends one twice; every message is its own transaction (a provider call cannot be rolled back).
"""

from django.core.management.base import BaseCommand
from django.utils import timezone

from couriers.messaging import delivery, sending, tasks
from couriers.models import Message


class Command(BaseCommand):
    help = "发送已到发送时间的短信（后台任务的补充）。"

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="只显示待发送的条数，不发送")

    def handle(self, *args, dry_run=False, **options):
        if dry_run:
            due = Message.objects.due(timezone.now()).count()
            self.stdout.write(self.style.SUCCESS(f"已到发送时间的短信 {due} 条（未发送）。"))
            return
        tried = sending.send_due()
        tasks.schedule_next_round()
        receipts = delivery.poll()  # the provider's delivery reports not yet called back
        self.stdout.write(self.style.SUCCESS(f"已处理 {tried} 条短信，更新回执 {receipts} 条。"))
