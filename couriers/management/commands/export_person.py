"""`python manage.py export_person PHONE`: everything held about a person (a PIPL access
request), as JSON on standard output or in a file."""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from couriers.privacy import personal_data
from couriers.validators import normalize_id_number, normalize_phone


def person_phone(raw: str) -> str:
    try:
        return normalize_phone(raw)
    except ValidationError as error:
        raise CommandError(f"手机号码不正确：{raw}（{'；'.join(error.messages)}）") from error


def person_id_number(raw: str | None) -> str:
    if not raw:
        return ""
    try:
        return normalize_id_number(raw)
    except ValidationError as error:
        raise CommandError(f"身份证号码不正确：{raw}（{'；'.join(error.messages)}）") from error


def add_person_arguments(parser) -> None:
    parser.add_argument("phone", help="本人手机号码")
    parser.add_argument(
        "--id-number", help="本人身份证号码（选填；已登记的号码会自动使用），用于查找导入记录等"
    )


class Command(BaseCommand):
    help = "导出平台保存的某人的全部个人信息（个人信息查阅、复制请求），JSON 格式。"

    def add_arguments(self, parser):
        add_person_arguments(parser)
        parser.add_argument("--output", "-o", help="写入该文件（默认输出到屏幕）")

    def handle(self, phone, output=None, id_number=None, **options):
        held = personal_data.find(person_phone(phone), person_id_number(id_number))
        document = personal_data.export(held)
        if output:
            Path(output).write_text(document, encoding="utf-8")
            self.stderr.write(f"已写入 {output}（{len(held.records())} 条记录）")
        else:
            self.stdout.write(document)
        if not held.found_anything():
            self.stderr.write("平台没有保存该手机号码的信息。")
