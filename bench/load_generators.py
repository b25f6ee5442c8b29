"""The load generators of bench/pages.py: a page requested over loopback, a bounded number
of times, from several keep-alive connections at once, every status checked.

- ``Wrk``: ``wrk`` with a Lua script (below) that counts each thread's responses up to a
  limit, checks their status, takes POST bodies from a file and notes wall-clock times, so
  that the rate covers the counted responses only;
- ``PythonGenerator``: the same with processes of ``http.client`` connections, where wrk is not
  installed.

``run(port, page, requests, offset)`` returns a ``Measurement``: requests counted, requests per
second, 95th percentile latency and errors (unexpected statuses and socket errors).
"""

from __future__ import annotations

import http.client
import json
import multiprocessing
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from common import BenchError

HOST = "127.0.0.1"

LUA_SCRIPT = r"""
-- One page under load: a bounded number of responses per thread, every status checked.
-- Requests come from BENCH_REQUESTS_FILE when set (one "cookie<TAB>address<TAB>body" line per
-- request, shared out between threads), else every request is the same.
-- wrk's own duration includes its -d sleep, so each thread notes wall-clock times from
-- /proc/uptime (10 ms resolution) at its first request and its last counted response, and
-- touches a file in BENCH_DONE_DIR then, so that the driver can end wrk's sleep with SIGINT.
local threads = {}
local next_id = 1

local function uptime()
  local f = io.open("/proc/uptime")
  local value = f:read("*n")
  f:close()
  return value
end

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  limit = tonumber(os.getenv("BENCH_LIMIT"))
  expect = tonumber(os.getenv("BENCH_EXPECT"))
  local nthreads = tonumber(os.getenv("BENCH_THREADS"))
  method = os.getenv("BENCH_METHOD")
  path = os.getenv("BENCH_PATH")
  cookie = os.getenv("BENCH_COOKIE")
  done_dir = os.getenv("BENCH_DONE_DIR")
  responses, counted, unexpected, first_unexpected = 0, 0, 0, ""
  started, finished = -1, -1
  lines, cursor = {}, 1
  local file = os.getenv("BENCH_REQUESTS_FILE")
  if file and file ~= "" then
    local i = 0
    for line in io.lines(file) do
      if i % nthreads == id - 1 then table.insert(lines, line) end
      i = i + 1
    end
  end
end

function request()
  if started < 0 then started = uptime() end
  local headers = {}
  if cookie and cookie ~= "" then headers["Cookie"] = cookie end
  if #lines > 0 then
    local line = lines[cursor]
    cursor = cursor % #lines + 1
    local c, address, body = line:match("^([^\t]*)\t([^\t]*)\t(.*)$")
    headers["Cookie"] = c
    headers["X-Forwarded-For"] = address
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    return wrk.format(method, path, headers, body)
  end
  return wrk.format(method, path, headers)
end

function response(status, headers, body)
  responses = responses + 1
  if finished >= 0 then return end  -- in flight when the limit was reached: not counted
  counted = counted + 1
  if status ~= expect then
    unexpected = unexpected + 1
    if first_unexpected == "" then first_unexpected = tostring(status) end
  end
  if counted >= limit then
    finished = uptime()
    io.open(done_dir .. "/" .. id, "w"):close()
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local first, last, total, unexpected_total, statuses = nil, 0, 0, 0, ""
  local now = uptime()
  for _, thread in ipairs(threads) do
    local s, f = thread:get("started"), thread:get("finished")
    if f < 0 then f = now end  -- stopped by the -d cap
    if s >= 0 and (first == nil or s < first) then first = s end
    if f > last then last = f end
    total = total + thread:get("counted")
    unexpected_total = unexpected_total + thread:get("unexpected")
    local status = thread:get("first_unexpected")
    if status ~= "" then statuses = statuses .. status .. " " end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "seconds": %.3f, "p95_us": %d, "unexpected": %d, ' ..
    '"socket_errors": %d, "statuses": "%s"}\n',
    total, last - (first or last), latency:percentile(95), unexpected_total,
    e.connect + e.read + e.write + e.timeout, statuses))
end
"""


@dataclass
class Page:
    name: str
    path: str
    target: float | None
    method: str = "GET"
    expect: int = 200
    cookie: str = ""
    # POST only: one (cookie, address, body) per request.
    bodies: list[tuple[str, str, str]] = field(default_factory=list)


@dataclass
class Measurement:
    requests: int
    rps: float
    p95_ms: float
    errors: int
    detail: str = ""


class Wrk:
    name = "wrk"

    def __init__(self, connections: int, threads: int, max_seconds: int, workdir: Path):
        self.connections, self.threads, self.max_seconds = connections, threads, max_seconds
        self.script = workdir / "page.lua"
        self.script.write_text(LUA_SCRIPT)
        self.workdir = workdir

    def run(self, port: int, page: Page, requests: int, offset: int = 0) -> Measurement:
        bodies_file = ""
        if page.bodies:
            chosen = page.bodies[offset : offset + requests + self.connections]
            if len(chosen) < requests + self.connections:
                raise BenchError(f"{page.name}: only {len(chosen)} prepared submissions left")
            path = self.workdir / "bodies.tsv"
            path.write_text("".join("\t".join(b) + "\n" for b in chosen))
            bodies_file = str(path)
        done_dir = Path(tempfile.mkdtemp(dir=self.workdir))
        environment = dict(
            os.environ,
            BENCH_DONE_DIR=str(done_dir),
            BENCH_LIMIT=str(max(1, requests // self.threads)),
            BENCH_EXPECT=str(page.expect),
            BENCH_THREADS=str(self.threads),
            BENCH_METHOD=page.method,
            BENCH_PATH=page.path,
            BENCH_COOKIE=page.cookie,
            BENCH_REQUESTS_FILE=bodies_file,
        )
        command = ["wrk", f"-t{self.threads}", f"-c{self.connections}"]
        command += [f"-d{self.max_seconds}s", "--timeout", "30s", "-s", str(self.script)]
        command.append(f"http://{HOST}:{port}{page.path}")
        process = subprocess.Popen(
            command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        # wrk sleeps for its whole -d even when every thread has stopped; SIGINT ends that.
        # (Again every half second: a signal that lands before wrk starts sleeping is lost.)
        signalled = 0.0
        while process.poll() is None:
            finished = len(list(done_dir.iterdir())) >= self.threads
            if finished and time.monotonic() - signalled > 0.5:
                process.send_signal(signal.SIGINT)
                signalled = time.monotonic()
            time.sleep(0.02)
        stdout, stderr = process.communicate()
        shutil.rmtree(done_dir, ignore_errors=True)
        line = next((x for x in stdout.splitlines() if x.startswith("BENCH ")), None)
        if process.returncode != 0 or line is None:
            raise BenchError(f"wrk failed: {stdout}{stderr}")
        figures = json.loads(line[len("BENCH ") :])
        seconds = figures["seconds"]
        errors = figures["unexpected"] + figures["socket_errors"]
        detail = ""
        if errors:
            detail = f"statuses {figures['statuses'].strip()}; socket {figures['socket_errors']}"
        return Measurement(
            figures["requests"],
            figures["requests"] / seconds,
            figures["p95_us"] / 1000,
            errors,
            detail,
        )


def _python_worker(
    args: tuple[int, str, str, str, int, list[tuple[str, str, str]], int, float, float],
) -> tuple[list[float], dict[int, int], int]:
    port, method, path, cookie, _expect, jobs, count, start_at, max_seconds = args
    while time.time() < start_at:  # start together
        time.sleep(0.001)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    socket_errors = 0
    conn = None
    deadline = start_at + max_seconds
    for i in range(count):
        if time.time() > deadline:
            break
        headers = {"Cookie": cookie} if cookie else {}
        body = None
        if jobs:
            job_cookie, address, text = jobs[i]
            headers.update(
                {
                    "Cookie": job_cookie,
                    "X-Forwarded-For": address,
                    "Content-Type": "application/x-www-form-urlencoded",
                }
            )
            body = text.encode()
        started = time.perf_counter()
        try:
            if conn is None:
                conn = http.client.HTTPConnection(HOST, port, timeout=30)
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            if response.will_close:  # gunicorn's sync workers close after each response
                conn.close()
                conn = None
        except OSError:
            socket_errors += 1
            conn = None
            continue
        latencies.append(time.perf_counter() - started)
        statuses[response.status] = statuses.get(response.status, 0) + 1
    if conn is not None:
        conn.close()
    return latencies, statuses, socket_errors


class PythonGenerator:
    name = "python"

    def __init__(self, connections: int, max_seconds: int):
        self.connections, self.max_seconds = connections, max_seconds
        self.pool = multiprocessing.Pool(connections)

    def run(self, port: int, page: Page, requests: int, offset: int = 0) -> Measurement:
        share = max(1, requests // self.connections)
        start_at = time.time() + 0.5
        tasks = []
        for n in range(self.connections):
            jobs = []
            if page.bodies:
                first = offset + n * share
                jobs = page.bodies[first : first + share]
                if len(jobs) < share:
                    raise BenchError(f"{page.name}: too few prepared submissions")
            tasks.append(
                (
                    port,
                    page.method,
                    page.path,
                    page.cookie,
                    page.expect,
                    jobs,
                    share,
                    start_at,
                    self.max_seconds,
                )
            )
        results = self.pool.map(_python_worker, tasks)
        elapsed = time.time() - start_at
        latencies = sorted(x for r in results for x in r[0])
        statuses: dict[int, int] = {}
        for _, counts, _ in results:
            for status, n in counts.items():
                statuses[status] = statuses.get(status, 0) + n
        socket_errors = sum(r[2] for r in results)
        unexpected = sum(n for status, n in statuses.items() if status != page.expect)
        errors = unexpected + socket_errors
        detail = f"statuses {statuses}; socket {socket_errors}" if errors else ""
        p95 = latencies[int(len(latencies) * 0.95) - 1] * 1000 if latencies else 0.0
        return Measurement(len(latencies), len(latencies) / elapsed, p95, errors, detail)
