"""Fill the database with the demo district: `python manage.py load_demo`.

Runs each portal app's `demo.load()` in dependency order (couriers, then stations, then
activities), so later features extend this one command by adding a `demo` module to their app.
Idempotent: a second run writes nothing new. Development only: refuses to run with DEBUG off
unless --force is given.
"""

import importlib

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from couriers.demo import DEMO_ACCOUNTS, DEMO_PASSWORD
from couriers.roles import PORTAL_APPS


class Command(BaseCommand):
    help = "载入演示数据（可重复运行）。Load the demo district; safe to run again."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="即使 DEBUG=False 也运行（会创建演示账号，切勿用于生产）",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="只显示将得到的数量，不写入数据库"
        )

    def handle(self, *args, force=False, dry_run=False, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "DEBUG=False：拒绝载入演示数据（会创建口令公开的演示账号）。确需载入请加 --force。"
            )
        accounts = list(DEMO_ACCOUNTS)
        with transaction.atomic():
            counts: dict[str, int] = {}
            for app_label in PORTAL_APPS:
                try:
                    module = importlib.import_module(f"{app_label}.demo")
                except ModuleNotFoundError:
                    continue
                counts.update(module.load())
                if app_label != "couriers":  # a later app's own demo accounts
                    accounts += getattr(module, "DEMO_ACCOUNTS", [])
            if dry_run:
                transaction.set_rollback(True)
        for label, count in counts.items():
            self.stdout.write(f"  {label}：{count}")
        verb = "（试运行，未写入）" if dry_run else ""
        self.stdout.write(self.style.SUCCESS(f"演示数据已载入{verb}。"))
        self.stdout.write(f"演示账号（仅供开发演示，口令均为 {DEMO_PASSWORD}）：")
        for username, role in accounts:
            self.stdout.write(f"  {username:<10}{role}")
