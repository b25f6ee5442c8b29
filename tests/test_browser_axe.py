"""Accessibility of every public page at 390 px: axe-core (from the npm registry; `.ci/run`
installs it into .cache/axe) run in Chromium on the demo data, with the signed-in courier's own
pages too. Any violation fails, colour contrast (≥ 4.5:1, read outdoors) included.

Without axe-core installed the test is skipped locally, and fails when REQUIRE_BROWSER=1 (CI).
"""

from __future__ import annotations

import os
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.browser import PHONE

pytestmark = pytest.mark.browser

AXE = Path(
    os.environ.get(
        "AXE_CORE_PATH",
        Path(__file__).resolve().parent.parent / ".cache/axe/node_modules/axe-core/axe.min.js",
    )
)


@pytest.fixture
def axe_source() -> str:
    if not AXE.exists():
        message = f"{AXE} not found: npm install --prefix .cache/axe axe-core@4"
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return AXE.read_text()


@pytest.fixture
def demo(live_db, settings) -> str:
    settings.DEBUG = True  # load_demo refuses production; the pages are served with DEBUG off
    call_command("load_demo", stdout=StringIO())
    settings.DEBUG = False
    return live_db.url


def public_paths() -> list[str]:
    from activities.models import Activity, Reward, Story, VolunteerPost
    from stations.models import CheckinPoint, Station

    paths = [
        "/",
        "/stations/",
        "/stations/?lat=30.918&lng=121.474",
        "/stations/map/",
        "/posts/",
        "/activities/",
        "/leaderboard/",
        "/stories/",
        "/partnerships/",
        "/reports/resolved/",
        "/rewards/",
        "/me/signin/?next=/reports/new/",
    ]
    paths.append(f"/stations/{Station.objects.active().first().pk}/")
    paths.append(f"/posts/{VolunteerPost.objects.active().first().pk}/")
    paths.append(f"/activities/{Activity.objects.published().first().pk}/")
    story = Story.objects.first()
    if story:
        paths.append(f"/stories/{story.pk}/")
    reward = Reward.objects.first()
    if reward:
        paths.append(f"/rewards/{reward.pk}/")
    point = CheckinPoint.objects.filter(is_active=True).first()
    paths.append(f"/checkin/{point.token}/")
    return paths


def violations(page, axe: str) -> list[str]:
    page.add_script_tag(content=axe)
    return page.evaluate(
        """async () => {
            const result = await axe.run(document, {resultTypes: ["violations"]});
            return result.violations.map(v => v.id + ": " + v.nodes.map(
                n => n.target.join(" ") + " " + (n.any[0] ? n.any[0].message : "")
            ).slice(0, 4).join(" | "));
        }"""
    )


def test_every_public_page_is_axe_clean(demo, browser, axe_source):
    from activities.models import SignUp
    from tests.test_browser_courier_a import sign_in_courier

    # The site's CSP allows no inline script; axe is injected by the test, not by the site.
    context = browser.new_context(
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        bypass_csp=True,
    )
    page = context.new_page()
    problems = {}

    def check(path: str) -> None:
        page.goto(demo + path)
        found = violations(page, axe_source)
        if found:
            problems[path] = found

    for path in public_paths():
        check(path)
    # The courier's own pages, with a waiting-list place on them (候补第 N 位).
    waiting = SignUp.objects.filter(status=SignUp.Status.WAITING).select_related("courier").first()
    courier = waiting.courier if waiting else SignUp.objects.first().courier
    sign_in_courier(page, demo, courier)
    for path in ["/", "/me/", "/me/edit/", "/me/messages/", "/reports/new/", "/leaderboard/"]:
        check(path)
        assert "/me/signin/" not in page.url  # really signed in
    context.close()
    report = "\n".join(f"{path}\n  " + "\n  ".join(found) for path, found in problems.items())
    assert not problems, report
