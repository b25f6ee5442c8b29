"""Delete import uploads past their use: `python manage.py cleanup_imports [--dry-run]`.

Unconfirmed previews older than IMPORT_PREVIEW_RETENTION_HOURS go with their files; confirmed
imports keep their record but not a leftover file; files no job refers to go too. Run hourly
by deploy/systemd/fengxian-housekeeping.timer (and by the task worker after each import).
"""

from django.core.management.base import BaseCommand

from couriers.imports.cleanup import sweep


class Command(BaseCommand):
    help = "删除过期未确认的导入预览及不再需要的上传文件。"

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="只列出将删除的内容，不删除")

    def handle(self, *args, dry_run=False, **options):
        result = sweep(dry_run=dry_run)
        if dry_run:
            for preview in result.previews:
                self.stdout.write(f"预览 {preview}")
            for name in result.files:
                self.stdout.write(f"文件 {name}")
        self.stdout.write(self.style.SUCCESS(str(result)))
