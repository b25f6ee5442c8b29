"""`python manage.py export_person PHONE`: everything held about a person (a PIPL access
request), as JSON on standard output or in a file."""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from couriers.privacy import personal_data
from couriers.validators import normalize_phone


def person_phone(raw: str) -> str:
    try:
        return normalize_phone(raw)
    except ValidationError as error:
        raise CommandError(f"手机号码不正确：{raw}（{'；'.join(error.messages)}）") from error


class Command(BaseCommand):
    help = "导出平台保存的某人的全部个人信息（个人信息查阅、复制请求），JSON 格式。"

    def add_arguments(self, parser):
        parser.add_argument("phone", help="本人手机号码")
        parser.add_argument("--output", "-o", help="写入该文件（默认输出到屏幕）")

    def handle(self, phone, output=None, **options):
        held = personal_data.find(person_phone(phone))
        document = personal_data.export(held)
        if output:
            Path(output).write_text(document, encoding="utf-8")
            self.stderr.write(f"已写入 {output}（{len(held.records())} 条记录）")
        else:
            self.stdout.write(document)
        if not held.records() and not held.codes:
            self.stderr.write("平台没有保存该手机号码的信息。")
