"""Benchmark: what each courier page weighs on a slow phone network, in a real browser.

What it measures
    The portal runs as in production (bench/pages.py's gunicorn, ``DEBUG=False``, hashed and
    pre-compressed static files) behind an nginx on loopback that takes its compression
    directives (``gzip …;``) from the shipped site, deploy/nginx/fengxian.conf, so the figures
    are those a courier gets from the real deployment. The database holds the demo district
    plus generated stations up to 1,000 and couriers up to 20,000.

    Debian's Chromium (/usr/bin/chromium) driven by Playwright at 390 px opens each page with
    the cache disabled and the network throttled through the DevTools protocol: 400 kbps
    down, 200 kbps up, 400 ms latency. For each page it reports the requests, the bytes
    transferred (``encodedDataLength``, headers included) and the time to the load event.
    Map tiles are refused (the map's weight is "before tiles").

    Pages: home, the finder (sorted by distance), the map, a station, the check-in start
    (a poster's /checkin/<token>/), posts, activities and /me/ (as a signed-in courier).
    Targets: every page but the map ≤ 30 KB and ≤ 1.5 s; the map ≤ 80 KB. Then the photo
    report: a 12-megapixel JPEG chosen on /reports/new/ must go up as ≤ 500 KB (the page
    resizes it in the browser); reported as ``upload`` (missing when the page has no photo
    field yet).

How to run it (from the project folder, PostgreSQL running, nginx and chromium installed)
    .venv/bin/python bench/page_weight.py

    BENCH_WEIGHT_DATABASE_URL (or ``--database-url``) chooses the scratch database (default
    postgres://postgres@127.0.0.1:5432/fengxian_bench_weight), dropped and re-created.

Output: one JSON line per page, {"page", "url", "requests", "kb", "seconds", "server_s",
"target_kb", "target_s", "meets"} (``server_s``: the app's own time for the page's HTML, from
nginx's upstream time, so a slow page can be told from a slow network), and progress on
standard error. Exit 1 when a page misses its target.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import common
import pages
from common import PROJECT_DIR, BenchError
from load_generators import HOST

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/fengxian_bench_weight"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
NGINX_SITE = PROJECT_DIR / "deploy" / "nginx" / "fengxian.conf"
STATIONS, COURIERS = 1_000, 20_000
# Chrome DevTools' throughput is in bytes per second.
THROTTLE = {
    "offline": False,
    "latency": 400,
    "downloadThroughput": 400_000 / 8,
    "uploadThroughput": 200_000 / 8,
}
PAGE_KB, PAGE_S, MAP_KB, UPLOAD_KB = 30, 1.5, 80, 500
WECHAT_UA = (
    "Mozilla/5.0 (Linux; Android 13; V2203A) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/116.0 Mobile Safari/537.36 MicroMessenger/8.0.44.2502 NetType/4G Language/zh_CN"
)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    common.database_option(parser, DEFAULT_URL, "BENCH_WEIGHT_DATABASE_URL")
    return parser.parse_args()


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- data -----------------------------------------------------------------------------------


def add_stations_and_couriers() -> None:
    """Top the demo district up to 1,000 stations and 20,000 couriers, spread over the towns."""
    from couriers.models import Courier, Town
    from stations.models import Service, Station

    towns = list(Town.objects.all())
    services = list(Service.objects.all())
    missing = STATIONS - Station.objects.count()
    made = Station.objects.bulk_create(
        Station(
            town=towns[n % len(towns)],
            name=f"{towns[n % len(towns)].name}骑乐融融点{n + 1:03d}",
            address=f"测试路{n + 1}号",
            latitude=30.80 + (n % 40) * 0.006,
            longitude=121.35 + (n // 40) * 0.016,
            open_24_hours=n % 3 == 0,
        )
        for n in range(max(missing, 0))
    )
    through = Station.services.through
    through.objects.bulk_create(
        through(station=s, service=services[k % len(services)])
        for i, s in enumerate(made)
        for k in range(i % 4, i % 4 + 3)
    )
    missing = COURIERS - Courier.objects.count()
    Courier.objects.bulk_create(
        (
            Courier(name=f"小哥{n:05d}", phone=f"198{n:08d}", work_town=towns[n % len(towns)])
            for n in range(max(missing, 0))
        ),
        batch_size=2000,
    )
    common.vacuum_analyze()


# --- nginx in front of gunicorn --------------------------------------------------------------


def shipped_gzip_directives() -> list[str]:
    """The shipped site's gzip lines, so the bench compresses exactly as production does."""
    lines = re.findall(r"^\s*(gzip[a-z_]*\s[^;]*;)", NGINX_SITE.read_text(), re.M)
    if not any(line.startswith("gzip on") for line in lines):
        raise BenchError("deploy/nginx/fengxian.conf does not turn gzip on")
    return lines


def start_nginx(workdir: Path, port: int, upstream: int) -> subprocess.Popen:
    nginx = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")
    if not nginx:
        raise BenchError("nginx not found: apt-get install -y nginx-light")
    gzip = "\n        ".join(shipped_gzip_directives())
    conf = workdir / "nginx.conf"
    conf.write_text(
        f"""
pid {workdir}/nginx.pid;
error_log {workdir}/nginx.error.log warn;
events {{ worker_connections 64; }}
http {{
    # What the photo upload weighs as it reaches the server (the request's full length), and
    # how long the app took to answer (a page's seconds less this are the network's).
    log_format lengths '$request_method $uri $content_length $upstream_response_time';
    access_log {workdir}/nginx.access.log lengths;
    client_body_temp_path {workdir}/body;
    proxy_temp_path {workdir}/proxy;
    fastcgi_temp_path {workdir}/fastcgi;
    uwsgi_temp_path {workdir}/uwsgi;
    scgi_temp_path {workdir}/scgi;
    server {{
        listen {HOST}:{port};
        client_max_body_size 55m;
        {gzip}
        location / {{
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_pass http://{HOST}:{upstream};
        }}
    }}
}}
"""
    )
    process = subprocess.Popen(
        [nginx, "-p", str(workdir), "-c", str(conf), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=(workdir / "nginx.out").open("w"),
        start_new_session=True,
    )
    time.sleep(0.5)
    if process.poll() is not None:
        raise BenchError("nginx exited: " + (workdir / "nginx.out").read_text()[-2000:])
    return process


# --- the browser ----------------------------------------------------------------------------


def weigh(browser, base: str, path: str, cookie: str) -> dict:
    """Requests, KB transferred and seconds to the load event of one page, throttled."""
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        user_agent=WECHAT_UA,
    )
    if cookie:
        context.add_cookies([{"name": "sessionid", "value": cookie, "url": base}])
    page = context.new_page()
    # Tiles are not ours to weigh: refuse every request that leaves the site.
    page.route(re.compile(r"^https?://(?!" + re.escape(HOST) + r")"), lambda r: r.abort())
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    cdp.send("Network.emulateNetworkConditions", THROTTLE)
    sizes: dict[str, float] = {}
    cdp.on(
        "Network.loadingFinished",
        lambda e: sizes.__setitem__(e["requestId"], e["encodedDataLength"]),
    )
    response = page.goto(base + path, wait_until="load", timeout=60_000)
    # From the start of navigation to the end of the load event, as the page itself saw it.
    seconds = page.evaluate(
        "() => { const n = performance.getEntriesByType('navigation')[0];"
        " return n.loadEventEnd / 1000; }"
    )
    page.wait_for_timeout(1500)  # the map's marker JSON comes after the load event
    status = response.status if response else 0
    context.close()
    return {
        "status": status,
        "requests": len(sizes),
        "kb": round(sum(sizes.values()) / 1024, 1),
        "seconds": round(seconds, 2),
    }


def server_seconds(workdir: Path, uri: str) -> float | None:
    """The app's time for the last GET of `uri` that nginx passed on (its upstream time)."""
    log = (workdir / "nginx.access.log").read_text()
    times = re.findall(rf"^GET {re.escape(uri)} \S+ ([\d.]+)$", log, re.M)
    return float(times[-1]) if times else None


def upload_size(browser, base: str, cookie: str, workdir: Path) -> float | None:
    """KB sent when a 12-megapixel photo is chosen on /reports/new/ and the form submitted
    (the page's other fields are left as they are: a refused form still uploaded its photo)."""
    from PIL import Image

    photo = workdir / "photo.jpg"
    image = Image.effect_noise((4000, 3000), 64).convert("RGB")  # noise: a photo's detail
    image.save(photo, quality=92)
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    context.add_cookies([{"name": "sessionid", "value": cookie, "url": base}])
    page = context.new_page()
    page.goto(base + "/reports/new/")
    field = page.locator("input[type=file]")
    if not field.count():
        context.close()
        return None
    field.first.set_input_files(str(photo))
    page.wait_for_timeout(3000)  # the page may resize the photo before it can be sent
    page.locator("form button[type=submit], form input[type=submit]").last.click()
    page.wait_for_timeout(5000)
    context.close()
    # nginx logged each request's Content-Length: the body the browser sent.
    posts = re.findall(
        r"^POST /reports/new/ (\d+) ", (workdir / "nginx.access.log").read_text(), re.M
    )
    return round(max(map(int, posts)) / 1024, 1) if posts else None


# --- the run --------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="fengxian-bench-weight-"))
    try:
        return measure(args.database_url, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def measure(url: str, workdir: Path) -> int:
    if not Path(CHROMIUM).exists():
        raise BenchError(f"{CHROMIUM} not found: apt-get install -y chromium fonts-noto-cjk")
    environment = pages.production_env(url, workdir / "static", "locmemcache://")
    pages.manage(pages.development_env(url), "migrate", "--noinput")
    pages.manage(pages.development_env(url), "load_demo")
    pages.manage(environment, "collectstatic", "--noinput")
    common.setup_django(url, environment)
    add_stations_and_couriers()

    from django.urls import reverse

    from couriers.models import Town
    from stations.checkin.flow import point_token
    from stations.models import CheckinPoint, Station

    town = Town.objects.get(name="南桥镇")
    session = pages.make_courier_sessions(town.pk, 1)[0][0]
    point = CheckinPoint.objects.filter(is_active=True).first()
    station = Station.objects.active().filter(town=town).first()
    position = "&".join(f"{k}={v}" for k, v in pages.POSITION.items())
    targets = [
        ("home", "/", "", PAGE_KB),
        ("finder", f"/stations/?{position}", "", PAGE_KB),
        ("map", f"/stations/map/?{position}", "", MAP_KB),
        ("station", f"/stations/{station.pk}/", "", PAGE_KB),
        ("checkin", reverse("checkin:start", args=[point_token(point)]), "", PAGE_KB),
        ("posts", "/posts/", "", PAGE_KB),
        ("activities", "/activities/", "", PAGE_KB),
        ("me", "/me/", session, PAGE_KB),
    ]

    upstream, port = pages.free_port(), pages.free_port()
    server = pages.start_server(environment, upstream, workdir / "gunicorn.log")
    proxy = start_nginx(workdir, port, upstream)
    base = f"http://{HOST}:{port}"
    missed = False
    try:
        from playwright.sync_api import sync_playwright

        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
            )
            for name, path, cookie, target_kb in targets:
                # One untimed request first: the figures are of a warm server, as in use.
                pages.fetch(port, "GET", path, headers={"Cookie": f"sessionid={cookie}"})
                figures = weigh(browser, base, path, cookie)
                target_s = None if name == "map" else PAGE_S
                meets = (
                    figures["status"] == 200
                    and figures["kb"] <= target_kb
                    and (target_s is None or figures["seconds"] <= target_s)
                )
                missed |= not meets
                line = {"page": name, "url": path.split("?")[0], **figures}
                line["server_s"] = server_seconds(workdir, line["url"])
                line.update(target_kb=target_kb, target_s=target_s, meets=meets)
                print(json.dumps(line, ensure_ascii=False), flush=True)
            kb = upload_size(browser, base, session, workdir)
            line = {"page": "upload", "kb": kb, "target_kb": UPLOAD_KB}
            line.update(meets=kb is not None and kb <= UPLOAD_KB, missing=kb is None)
            missed |= not line["meets"]
            print(json.dumps(line, ensure_ascii=False), flush=True)
            browser.close()
    finally:
        pages.stop_server(proxy)
        pages.stop_server(server)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(common.main(run, parse_args, setup=False))
