"""`python manage.py erase_person PHONE`: remove or anonymise everything held about a person,
logs included, and report what was touched (see couriers/privacy/personal_data.py)."""

from django.core.management.base import BaseCommand

from couriers.management.commands.export_person import (
    add_person_arguments,
    person_id_number,
    person_phone,
)
from couriers.privacy import personal_data


class Command(BaseCommand):
    help = "删除或匿名化平台保存的某人的全部个人信息（含日志），并报告处理了哪些记录。"

    def add_arguments(self, parser):
        add_person_arguments(parser)
        parser.add_argument("--yes", action="store_true", help="不再确认，直接执行（脚本中使用）")

    def handle(self, phone, yes=False, id_number=None, **options):
        held = personal_data.find(person_phone(phone), person_id_number(id_number))
        if not held.found_anything():
            self.stdout.write("平台没有保存该手机号码的信息，无需处理。")
            return
        if not yes:
            answer = input(f"将删除或匿名化 {phone} 的全部个人信息，无法恢复。输入 yes 继续：")
            if answer.strip().lower() != "yes":
                self.stdout.write("已取消。")
                return
        touched = personal_data.erase(held)
        self.stdout.write(self.style.SUCCESS(f"已处理 {phone} 的个人信息："))
        for kind, count in touched.items():
            self.stdout.write(f"  {kind}：{count}")
