"""gunicorn settings for the portal: `gunicorn -c deploy/gunicorn.conf.py fengxian.wsgi`.

Each value may be overridden from the environment (the systemd unit reads /etc/fengxian/env).
Sync workers behind nginx: nginx buffers slow phone connections, so a worker is only busy
while Django works.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# gunicorn's rule of thumb; on a 2-core server that is 5 workers.
workers = int(os.environ.get("GUNICORN_WORKERS", 2 * multiprocessing.cpu_count() + 1))
# Sync workers behind nginx (which talks to them without keep-alive). Serving clients that
# keep connections open (a load generator on loopback) calls for "gthread", which keeps them.
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "sync")
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
# A request that takes longer than this is killed; large imports run in db_worker instead.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = 2
# Heartbeat files in memory: a busy disk must not make the arbiter think workers hung.
worker_tmp_dir = "/dev/shm"

# Trust X-Forwarded-Proto only from the local proxy (Django reads it via
# SECURE_PROXY_SSL_HEADER; the app reads the client address from X-Forwarded-For itself, and
# only when the connection comes from TRUSTED_PROXIES).
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# Access log to standard output (the journal). Empty GUNICORN_ACCESSLOG turns it off.
# The client is the proxy's X-Forwarded-For; the URL is logged without its query string and
# the referer not at all: they carry couriers' positions (/stations/?lat=…&lng=…) and phone
# numbers (admin searches, ?q=139…). %(M)s: request time in ms.
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-") or None
access_log_format = '%({x-forwarded-for}i)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms "%(a)s"'
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
proc_name = "fengxian"
