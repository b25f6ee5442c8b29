"""Expire vouchers past their date: `python manage.py expire_vouchers [--dry-run]`.

The worker does the same (activities.rewards.tasks.expire_vouchers, enqueued for each voucher's
expiry); this command is the sweep for cron or by hand. Each expired voucher gives its stock
back and its points with a reversing ledger entry.
"""

from django.core.management.base import BaseCommand

from activities.rewards import vouchers


class Command(BaseCommand):
    help = "取消已过期未使用的兑换券，退回库存和积分。"

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="只显示数量，不写入")

    def handle(self, *args, dry_run=False, **options):
        if dry_run:
            self.stdout.write(f"将过期 {vouchers.due().count()} 张兑换券（试运行，未写入）。")
            return
        self.stdout.write(self.style.SUCCESS(f"已过期 {vouchers.expire_due()} 张兑换券。"))
