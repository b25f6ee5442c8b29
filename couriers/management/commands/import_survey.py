"""Import a survey spreadsheet from the command line: `python manage.py import_survey FILE`.

The same checks and report as the admin. Exit status: 0 when the file imported (or would,
with --dry-run), 1 when rows are invalid (nothing written), 2 when the file cannot be read, or
when it has warnings (an unknown column that looks like data …) and --accept-warnings was not
given: the admin's preview asks the same acknowledgement.
"""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from couriers.imports.importers import IMPORTERS
from couriers.models import ImportJob


class Command(BaseCommand):
    help = (
        "导入排摸登记表（.xlsx/.xlsm/.xls/.ods/.csv）。"
        "退出码：0 成功，1 有错误行（未写入），2 文件无法读取。"
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="要导入的 .xlsx、.xlsm、.xls、.ods 或 .csv 文件")
        parser.add_argument("--dry-run", action="store_true", help="只校验并报告，不写入")
        parser.add_argument(
            "--accept-warnings",
            action="store_true",
            help="已阅读校验给出的提醒（如未识别的列），确认照常导入",
        )
        parser.add_argument(
            "--as-user", metavar="USERNAME", help="以该工作人员的身份和街镇范围导入（默认全区）"
        )
        parser.add_argument(
            "--kind",
            choices=list(IMPORTERS),
            default=ImportJob.Kind.COURIERS,
            help="表格类型：couriers 排摸登记表（默认），enterprises 企业网点名单",
        )

    def handle(
        self,
        *args,
        file,
        dry_run=False,
        as_user=None,
        kind="couriers",
        accept_warnings=False,
        **options,
    ):
        user = None
        if as_user:
            try:
                user = get_user_model().objects.get(username=as_user, is_active=True)
            except get_user_model().DoesNotExist:
                raise CommandError(f"没有名为 {as_user} 的有效用户。") from None
            opts = IMPORTERS[kind].model_meta()
            if not user.has_perm(f"{opts.app_label}.import_{opts.model_name}"):
                raise CommandError(f"用户 {as_user} 没有导入权限。")
        path = Path(file)
        try:
            data = path.read_bytes()
        except OSError as problem:
            self.stderr.write(self.style.ERROR(f"无法读取文件 {path}：{problem.strerror}"))
            raise SystemExit(2) from None
        importer = IMPORTERS[kind](user=user)
        importer.warnings_accepted = accept_warnings
        report = importer.run(data, path.name, dry_run=dry_run)
        for warning in report.warnings:
            self.stdout.write("提醒：" + warning)
        for error in report.errors:
            self.stdout.write(str(error))
        for line in report.sheet_lines():
            self.stdout.write(line)
        for entry in report.new_references:
            kind = "网点" if entry["kind"] == "outlet" else "企业"
            self.stdout.write(
                f"新建{kind}（待核实）：{entry['name']}（{entry['brand']}，{entry['town']}，"
                f"小哥 {entry['couriers']} 人）"
            )
        for match in report.matched_references:
            self.stdout.write(f"“{match['typed']}” 按 “{match['name']}” 导入（{match['rows']} 行）")
        if report.unknown_columns:
            self.stdout.write("未识别的列（已忽略）：" + "、".join(report.unknown_columns))
        if report.file_error:
            self.stderr.write(self.style.ERROR(report.summary()))
            if report.warnings and not accept_warnings:
                self.stderr.write("确认可以忽略这些提醒后，加 --accept-warnings 重新运行。")
            raise SystemExit(2)
        if report.errors:
            self.stderr.write(self.style.ERROR(report.summary()))
            raise SystemExit(1)
        self.stdout.write(self.style.SUCCESS(report.summary()))
