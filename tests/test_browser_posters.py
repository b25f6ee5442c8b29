"""Posters on paper (issue 16, item 5): the check-in, station and attendance posters each print
on exactly one A4 page from Chromium — with the page's own margins and with the print dialog's
default ones — the headline stays on one line, and the QR code read back from the printed page
(rasterised PDF, decoded by zbarimg) is the poster's public address."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from activities.programmes import attendance
from stations.checkin.flow import point_token
from stations.models import CheckinPoint, Station
from tests import factories

pytestmark = pytest.mark.browser

# Chromium's print dialog with 「默认」 margins uses 0.4 in on every side.
DIALOG_MARGINS = {side: "0.4in" for side in ("top", "right", "bottom", "left")}


def _tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"{name} not found")
        pytest.skip(f"{name} not found: apt-get install -y zbar-tools poppler-utils")
    return found


def _pages(pdf: Path) -> int:
    info = subprocess.run([_tool("pdfinfo"), str(pdf)], capture_output=True, text=True).stdout
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))


def _qr_of_first_page(pdf: Path) -> str:
    png = pdf.with_suffix("")
    subprocess.run(
        [_tool("pdftoppm"), "-r", "150", "-png", "-f", "1", "-l", "1", "-singlefile", pdf, png],
        check=True,
    )
    result = subprocess.run(
        [_tool("zbarimg"), "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", f"{png}.png"],
        capture_output=True,
        text=True,
    )
    return result.stdout.strip()


@pytest.fixture
def posters(live_db, settings):
    settings.PUBLIC_BASE_URL = live_db.url
    town = factories.town("南桥镇")
    staff = factories.district_staff("district")
    staff.set_password("fengxian-demo")
    staff.save()
    # Long names and addresses, as real ones are: they must not push the footer off the page.
    point = CheckinPoint.objects.create(
        name="南桥镇江海经济园区党群服务中心小哥报到点",
        town=town,
        address="南桥镇江海经济园区沪杭公路 1588 号 2 号楼一楼东侧大厅",
    )
    station = Station.objects.create(
        town=town,
        name="南桥镇行村村党群服务站（4号）骑乐融融驿站",
        address="南桥镇行村村委会东侧沿街 18 号",
        latitude=30.918,
        longitude=121.474,
    )
    activity = factories.activity(town, title="流动课堂：夏季高温下的交通安全与防暑降温知识讲座")
    return {
        "check-in": (
            f"/admin/stations/checkinpoint/{point.pk}/poster/",
            f"{live_db.url}/checkin/{point_token(point)}/",
        ),
        "station": (
            f"/stations/{station.pk}/poster/",
            f"{live_db.url}/stations/{station.pk}/scan/",
        ),
        "attendance": (
            f"/admin/activities/activity/{activity.pk}/qr/",
            f"{live_db.url}/activities/attend/{attendance.token(activity)}/",
        ),
    }


@pytest.mark.parametrize("kind", ["check-in", "station", "attendance"])
def test_each_poster_prints_on_one_a4_page_with_a_readable_qr_code(
    browser, live_db, posters, kind, tmp_path
):
    path, address = posters[kind]
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    page.goto(live_db.url + "/admin/login/")
    page.fill("#id_username", "district")
    page.fill("#id_password", "fengxian-demo")
    page.click("input[type=submit]")
    page.goto(live_db.url + path)
    page.emulate_media(media="print")
    page.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi, as printing lays out
    headline = page.locator("h1")
    size = float(headline.evaluate("h => parseFloat(getComputedStyle(h).fontSize)"))
    assert headline.bounding_box()["height"] < 1.9 * size, "the headline breaks onto two lines"
    for margins, name in ((None, "css"), (DIALOG_MARGINS, "dialog")):
        pdf = tmp_path / f"{kind}-{name}.pdf"
        page.pdf(path=str(pdf), format="A4", margin=margins, print_background=True)
        assert _pages(pdf) == 1, f"{kind} poster ({name} margins) spills onto a second page"
        assert _qr_of_first_page(pdf) == address
    shutil.copy(tmp_path / f"{kind}-dialog.pdf", f"/tmp/poster-{kind}.pdf")
    context.close()
