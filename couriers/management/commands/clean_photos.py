"""`python manage.py clean_photos [--dry-run]`: put photos stored before every upload was
cleaned through the one cleaning path (couriers/privacy/images.py), and delete the old files
that replaced photos left behind. Run once after upgrading; safe to run again."""

from django.core.management.base import BaseCommand
from django.db import transaction

from couriers.privacy import images


class Command(BaseCommand):
    help = "重新处理已保存的照片（去除 EXIF/GPS 等元数据），删除被替换照片遗留的旧文件。"

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="只报告，不改动")

    def handle(self, dry_run=False, **options):
        with transaction.atomic():
            counts = images.clean_stored(dry_run=dry_run)
        if not counts:
            self.stdout.write("没有需要处理的照片。")
        for kind, count in counts.items():
            self.stdout.write(f"{'（试运行）' if dry_run else ''}{kind}：{count}")
