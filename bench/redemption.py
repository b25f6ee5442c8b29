"""Benchmark: redeeming points for rewards on PostgreSQL, 20,000 couriers and 200 rewards.

What it measures
    Redemptions per second under 16 concurrent clients (threads, each with its own database
    connection, calling the same `redeem` the 兑换 button calls): first all on one hot reward
    whose stock runs out mid-run (every client queues on that reward's row lock), then spread
    over the other 199 rewards (the clients rarely meet). Then the query count of the
    /rewards/ page for a signed-in courier at 20 and at 200 rewards on offer (it must not grow).

    After each run it checks the invariants and exits 1 when one is broken: no reward sold
    past its stock (vouchers issued = stock taken, no stock below zero) and no courier's
    balance below zero.

How to run it (from the project folder, with PostgreSQL running)
    .venv/bin/python bench/redemption.py        # also part of: make bench

    BENCH_DATABASE_URL (or ``--database-url``) chooses the server and database (default
    postgres://postgres@127.0.0.1:5432/fengxian_bench_redeem). The script drops and re-creates
    that database and drops it again at the end: point it at a scratch database only.
"""

from __future__ import annotations

import argparse
import random
import sys
import threading
import time

import common
from common import BenchError
from courier_rows import grow_and_vacuum

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/fengxian_bench_redeem"
COURIERS = 20_000
REWARDS = 200
CLIENTS = 16
HOT_STOCK = 1_000
HOT_ATTEMPTS = 1_600  # more than the stock: the last ones are refused (已经兑完了)
SPREAD_ATTEMPTS = 3_200
POINTS_EACH = 100


def setup_rewards():
    from activities.models import Partner, PointsEntry, Reward
    from couriers.models import Courier, Town

    town = Town.objects.get(name="南桥镇")
    partner = Partner.objects.create(name="压测爱心超市", kind=Partner.Kind.SHOP, town=town)
    Reward.objects.bulk_create(
        [
            Reward(
                name=f"压测奖品{n:03d}",
                kind=Reward.Kind.GOODS,
                price=10 + n % 50,
                partner=partner,
                town=town if n % 2 else None,
                address="南桥镇解放东路1号",
                stock=HOT_STOCK if n == 0 else 500,
            )
            for n in range(REWARDS)
        ]
    )
    ids = list(Courier.objects.order_by("pk").values_list("pk", flat=True)[:COURIERS])
    PointsEntry.objects.bulk_create(
        [
            PointsEntry(courier_id=pk, amount=POINTS_EACH, reason="压测积分", source="manual")
            for pk in ids
        ],
        batch_size=2_000,
    )
    common.vacuum_analyze()
    rewards = list(Reward.objects.filter(partner=partner).order_by("name"))
    start_stock = {r.pk: r.stock for r in rewards}
    return ids, rewards[0].pk, [r.pk for r in rewards[1:]], start_stock


def run_clients(jobs: list[tuple[int, int]]) -> tuple[float, int, int]:
    """Run (courier, reward) redemptions from CLIENTS threads; seconds, done, refused."""
    from django.db import connection

    from activities.rewards.redeeming import RedeemRefused, redeem
    from couriers.models import Courier

    chunks = [jobs[n::CLIENTS] for n in range(CLIENTS)]
    barrier = threading.Barrier(CLIENTS + 1)
    done = refused = 0
    failures: list[BaseException] = []
    lock = threading.Lock()

    def client(chunk):
        nonlocal done, refused
        mine_done = mine_refused = 0
        try:
            barrier.wait()
            for courier_id, reward_id in chunk:
                try:
                    redeem(Courier(pk=courier_id), reward_id)
                    mine_done += 1
                except RedeemRefused:
                    mine_refused += 1
        except BaseException as problem:  # reported below: a benchmark must not hide errors
            failures.append(problem)
        finally:
            connection.close()
            with lock:
                done += mine_done
                refused += mine_refused

    threads = [threading.Thread(target=client, args=(chunk,)) for chunk in chunks]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    if failures:
        raise BenchError(f"a client failed: {failures[0]!r}")
    return seconds, done, refused


def check_invariants(start_stock: dict[int, int]) -> None:
    from django.db.models import Count, Sum

    from activities.models import PointsEntry, Reward, Voucher

    negative = (
        PointsEntry.objects.values("courier_id")
        .annotate(total=Sum("amount"))
        .filter(total__lt=0)
        .count()
    )
    if negative:
        raise BenchError(f"{negative} couriers have a negative balance")
    if Reward.objects.filter(stock__lt=0).exists():
        raise BenchError("a reward's stock went below zero")
    issued = dict(Voucher.objects.values_list("reward_id").annotate(n=Count("pk")).order_by())
    for pk, stock in Reward.objects.filter(pk__in=start_stock).values_list("pk", "stock"):
        if issued.get(pk, 0) + stock != start_stock[pk]:
            raise BenchError(f"reward {pk}: {issued.get(pk, 0)} vouchers, stock {stock} left")
    debits = PointsEntry.objects.filter(source="redeem", reverses__isnull=True).count()
    if debits != Voucher.objects.count():
        raise BenchError(f"{debits} debits for {Voucher.objects.count()} vouchers")


def rewards_page_queries(courier_id: int, on_offer: int) -> int:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from activities.models import Reward
    from couriers import identity

    ordered = list(
        Reward.objects.filter(partner__name="压测爱心超市")
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    Reward.objects.filter(pk__in=ordered[:on_offer]).update(is_active=True)
    Reward.objects.filter(pk__in=ordered[on_offer:]).update(is_active=False)
    client = Client()
    session = client.session
    session[identity.SESSION_KEY] = courier_id
    session.save()
    client.get("/rewards/")  # warm
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/rewards/")
    if response.status_code != 200:
        raise BenchError(f"/rewards/: HTTP {response.status_code}")
    shown = response.content.decode().count('class="station-card')
    if shown != on_offer:
        raise BenchError(f"/rewards/ lists {shown} rewards, not {on_offer}")
    return len(captured)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    common.database_option(parser, DEFAULT_URL)
    return parser.parse_args()


def run(args: argparse.Namespace) -> None:
    from activities.models import Reward

    started = time.perf_counter()
    common.migrate_and_load_demo()
    grow_and_vacuum(COURIERS, "198")
    Reward.objects.update(is_active=False)  # the demo's rewards: off the page being counted
    couriers, hot, spread, start_stock = setup_rewards()
    print(
        f"setup ({COURIERS:,} couriers, {REWARDS} rewards): {time.perf_counter() - started:.1f} s"
    )
    rng = random.Random(18)
    fresh = rng.sample(couriers, HOT_ATTEMPTS)
    seconds, done, refused = run_clients([(pk, hot) for pk in fresh])
    stock = Reward.objects.get(pk=hot).stock
    if done != HOT_STOCK or stock != 0:
        raise BenchError(f"hot reward: {done} redeemed, stock left {stock} (stock {HOT_STOCK})")
    print(
        f"hot reward, {CLIENTS} clients: {HOT_ATTEMPTS / seconds:,.0f} attempts/s, "
        f"{done / seconds:,.0f} redemptions/s ({done} redeemed = the stock, {refused} refused "
        f"out of stock, {seconds:.2f} s)"
    )
    # Spread: each courier tries again and again, so balances run out and refusals are real.
    spenders = rng.sample(couriers, SPREAD_ATTEMPTS // 4)
    jobs = [(pk, rng.choice(spread)) for pk in spenders for _ in range(4)]
    rng.shuffle(jobs)
    seconds, done, refused = run_clients(jobs)
    print(
        f"spread over {len(spread)} rewards, {CLIENTS} clients: {done / seconds:,.0f} "
        f"redemptions/s ({done} redeemed, {refused} refused: balance or limits, {seconds:.2f} s)"
    )
    check_invariants(start_stock)
    print("invariants: no reward oversold, no negative balance, one debit per voucher")
    few = rewards_page_queries(couriers[0], 20)
    many = rewards_page_queries(couriers[0], 200)
    print(f"/rewards/ queries: {few} at 20 rewards, {many} at 200 rewards")
    if many != few:
        raise BenchError(f"/rewards/ runs {many} queries at 200 rewards, {few} at 20")


if __name__ == "__main__":
    sys.exit(common.main(run, parse_args))
