"""Settings for the Fengxian courier portal.

Every deploy-time value comes from the environment (or an optional `.env` file beside
manage.py), read with django-environ. Development defaults are local and safe: SQLite in the
project folder and DEBUG on. With DEBUG off the app refuses to start without a real
SECRET_KEY and ALLOWED_HOSTS instead of falling back silently.
"""

import ipaddress
import os
import re
from pathlib import Path

import environ
import xstatic.pkg.leaflet
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=True)

_DEV_SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"
SECRET_KEY = env.str("SECRET_KEY", default=_DEV_SECRET_KEY)
# Old keys still accepted for signatures while rotating SECRET_KEY (comma-separated).
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])
ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# A form posted after its cookie expired: a Chinese page that keeps what was typed.
CSRF_FAILURE_VIEW = "couriers.security.csrf.csrf_failure"

if not DEBUG:
    if SECRET_KEY == _DEV_SECRET_KEY or len(SECRET_KEY) < 50:
        raise ImproperlyConfigured(
            "DEBUG=False 时必须设置 SECRET_KEY（至少 50 个随机字符）。"
            " Set SECRET_KEY to a long random value when DEBUG is off."
        )
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured(
            "DEBUG=False 时必须设置 ALLOWED_HOSTS。 Set ALLOWED_HOSTS when DEBUG is off."
        )

# Where couriers reach the site, e.g. https://portal.example.gov.cn: every public link handed
# out (poster QR codes, .ics files, text messages) is built from it, not from the host a staff
# member used (fengxian.links). Without it (development only) the request's host is used.
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="").rstrip("/")
if PUBLIC_BASE_URL and not PUBLIC_BASE_URL.startswith(("https://", "http://")):
    raise ImproperlyConfigured("PUBLIC_BASE_URL 应形如 https://portal.example.gov.cn")
if not DEBUG and not PUBLIC_BASE_URL:
    raise ImproperlyConfigured(
        "DEBUG=False 时必须设置 PUBLIC_BASE_URL（如 https://portal.example.gov.cn）。"
        " Set PUBLIC_BASE_URL, the address couriers use, when DEBUG is off."
    )

INSTALLED_APPS = [
    "fengxian.apps.PortalAdminConfig",  # django.contrib.admin with the portal's site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "import_export",
    "django_tasks",
    "django_tasks_db",
    "axes",
    "auditlog",
    "csp",
    "couriers",
    "stations",
    "activities",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "fengxian.middleware.PermissionsPolicyMiddleware",
    "fengxian.public_cache.PublicPageCacheMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "couriers.security.ratelimit.PublicFormRateLimitMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After messages: it tells the signed-out staff member why.
    "couriers.security.staff_sessions.StaffIdleTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "couriers.privacy.audit.AuditMiddleware",
    # Last, so that it sees the login view's failures (django-axes).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "fengxian.urls"
WSGI_APPLICATION = "fengxian.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# SQLite is the embedded default; production runs PostgreSQL through psycopg 3:
# DATABASE_URL=postgres://user:password@host:5432/fengxian
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and IMMEDIATE transactions let the dev server's threads write without
    # "database is locked" errors.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"init_command": "PRAGMA journal_mode=WAL;", "transaction_mode": "IMMEDIATE"}
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ----------------------------------------------------------------------------------
# Shared by every worker: the database by default, Redis when CACHE_URL says so
# (CACHE_URL=redis://127.0.0.1:6379/1). Public pages keep short-lived fragments here.
CACHES = {"default": env.cache("CACHE_URL", default="dbcache://fengxian_cache")}
# Public pages are served from that cache to anonymous visitors for this many seconds (0: off);
# see fengxian/public_cache.py.
PUBLIC_PAGE_CACHE = env.int("PUBLIC_PAGE_CACHE", default=60)

# --- Auth -----------------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    # django-axes first: it refuses logins while a username+address pair is locked out.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "couriers.security.passwords.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"

# Staff login throttling (django-axes): 5 failures of one username from one address lock that
# pair out for a while, so one person's typos do not lock out a whole office behind one address.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.5)  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "couriers.security.ratelimit.client_address"
# Should the callable above ever go, axes would still not believe X-Forwarded-For.
AXES_IPWARE_META_PRECEDENCE_ORDER = ("REMOTE_ADDR",)
AXES_LOCKOUT_TEMPLATE = "admin/locked_out.html"
AXES_VERBOSE = False

# Staff sessions end after this long without a request (couriers' sessions are not affected).
STAFF_IDLE_TIMEOUT_MINUTES = env.int("STAFF_IDLE_TIMEOUT_MINUTES", default=30)

# --- Language and time ----------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
# ISO-first input formats for zh-hans, so <input type="date"> shows and keeps its value.
FORMAT_MODULE_PATH = ["fengxian.formats"]
# Admin strings Django's zh_Hans catalogue lacks (locale/zh_Hans; compiled .mo committed).
LOCALE_PATHS = [BASE_DIR / "locale"]

# --- Static and media -----------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [
    BASE_DIR / "static",
    # Leaflet for the station map, from the xstatic-leaflet package (no CDN).
    ("leaflet", xstatic.pkg.leaflet.BASE_DIR),
]
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
# Uploaded spreadsheets wait here between upload and import: never under MEDIA_ROOT, never
# served. Shared by app servers and task workers.
PRIVATE_MEDIA_ROOT = env.path("PRIVATE_MEDIA_ROOT", default=BASE_DIR / "private")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # Hashed, compressed files in production (run collectstatic); plain files in development.
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- Security (production behind an HTTPS proxy) --------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Our own proxies (addresses or networks, comma-separated; the shipped nginx on this machine is
# 127.0.0.1,::1): only their X-Forwarded-For is believed when telling who the client is (rate
# limits, login lock-outs, the audit log). Default none: the connecting address is the client.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
for _proxy in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"TRUSTED_PROXIES 中的 {_proxy!r} 不是地址或网段（如 127.0.0.1、10.0.0.0/8）。"
        ) from None
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
# The proxy and monitors probe /healthz over plain HTTP on loopback.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Content-Security-Policy (django-csp): scripts and styles only from this site's own files, no
# inline code; map tiles from the configured tile server. Pages and the admin alike.
from csp.constants import NONE, SELF  # noqa: E402

# The station map's tiles (stations/tiles.py): 天地图 with MAP_TILE_KEY, otherwise 高德; or
# MAP_TILE_SOURCE=tianditu|amap|osm; MAP_TILE_URL overrides with any {z}/{x}/{y} server.
from stations import tiles as _tiles  # noqa: E402

MAP_TILE_SOURCE = env.str("MAP_TILE_SOURCE", default="")
MAP_TILE_KEY = env.str("MAP_TILE_KEY", default="")
_map_tiles = _tiles.resolve(
    MAP_TILE_SOURCE,
    MAP_TILE_KEY,
    url=env.str("MAP_TILE_URL", default=None),
    attribution=env.str("MAP_TILE_ATTRIBUTION", default=None),
    coordinates=env.str("MAP_TILE_COORDINATES", default=None),
)
MAP_TILE_URL = _map_tiles.url
MAP_TILE_LABELS_URL = _map_tiles.labels_url
MAP_TILE_COORDINATES = _map_tiles.coordinates  # "gcj02": markers are shifted to match


def _origin(url: str) -> list[str]:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host = parts.hostname or ""
    # "{s}.tile.example" style templates: allow the servers' wildcard.
    host = host.replace("{s}", "*")
    return [f"{parts.scheme}://{host}"] if parts.scheme and host else []


CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:", "blob:", *_origin(MAP_TILE_URL)],
        "connect-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
# Features a page may use: the station finder and check-in use the location, photo reports
# the camera (through a file input, which needs no permission); nothing else.
PERMISSIONS_POLICY = "geolocation=(self), camera=(), microphone=(), payment=(), usb=()"

# --- Logging --------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Every handler masks phone and ID numbers in what it writes (couriers/privacy/log_masking.py).
    "filters": {"mask_numbers": {"()": "couriers.privacy.log_masking.MaskNumbers"}},
    "formatters": {
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        }
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["mask_numbers"]},
        # runserver's request lines (development), which carry query strings.
        "django.server": {
            "class": "logging.StreamHandler",
            "formatter": "django.server",
            "filters": ["mask_numbers"],
        },
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # Django's loggers write through these handlers instead of its own unmasked ones.
    "loggers": {
        "django": {"handlers": [], "level": "INFO"},
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
    },
}

# --- django-import-export -------------------------------------------------------------------
IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "add"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"

# --- Spreadsheet imports --------------------------------------------------------------------
SHEET_IMPORT_MAX_ROWS = env.int("SHEET_IMPORT_MAX_ROWS", default=200_000)
# Files with more rows than this are checked and imported by the task worker, off the request.
SHEET_IMPORT_INLINE_MAX_ROWS = env.int("SHEET_IMPORT_INLINE_MAX_ROWS", default=3_000)
SHEET_IMPORT_MAX_BYTES = 50 * 1024 * 1024
SHEET_IMPORT_MAX_UNCOMPRESSED_BYTES = 300 * 1024 * 1024
# What reading one .xlsx may hold in memory, measured before it is unpacked
# (couriers/imports/xlsx_check.py): cells of its grid, columns, and text (shared strings and
# each use of one, inline text). Reading a file within them holds about 75 bytes a cell plus
# its text, at most about 400 MB; bench/upload_memory.py measures it.
SHEET_IMPORT_MAX_CELLS = 5_000_000
SHEET_IMPORT_MAX_COLUMNS = 100
SHEET_IMPORT_MAX_TEXT_BYTES = 100 * 1024 * 1024
# Unconfirmed previews (and their uploaded files) are deleted after this many hours
# (manage.py cleanup_imports, couriers/imports/cleanup.py).
IMPORT_PREVIEW_RETENTION_HOURS = env.int("IMPORT_PREVIEW_RETENTION_HOURS", default=24)

# --- Background tasks (django-tasks) --------------------------------------------------------
# Development runs tasks inline; production stores them in the database for
# `python manage.py db_worker` processes, which may run on any app server.
TASKS = {
    "default": {
        "BACKEND": env.str(
            "TASKS_BACKEND",
            default="django_tasks.backends.immediate.ImmediateBackend"
            if DEBUG
            else "django_tasks_db.DatabaseBackend",
        ),
    }
}

# --- Text messages -------------------------------------------------------------------------
# SMS_BACKEND: couriers.messaging.backends.ConsoleBackend (development), .HttpBackend (a
# gateway), couriers.messaging.providers.aliyun.AliyunBackend or
# couriers.messaging.providers.tencent.TencentBackend (the providers' SDKs; README 「短信通道」).
SMS_BACKEND = env.str("SMS_BACKEND", default="couriers.messaging.backends.ConsoleBackend")
SMS_HTTP_URL = env.str("SMS_HTTP_URL", default="")
SMS_HTTP_TOKEN = env.str("SMS_HTTP_TOKEN", default="")
SMS_SIGN_NAME = env.str("SMS_SIGN_NAME", default="奉贤快递小哥")
# The portal's template → the provider's approved template code, as JSON:
# {"login_code": "SMS_123456789", ...} for Aliyun, {"login_code": "1234567", ...} for Tencent.
SMS_TEMPLATE_CODES = env.json("SMS_TEMPLATE_CODES", default={})
SMS_PROVIDER_TIMEOUT = env.float("SMS_PROVIDER_TIMEOUT", default=5.0)  # seconds a call
ALIBABA_CLOUD_ACCESS_KEY_ID = env.str("ALIBABA_CLOUD_ACCESS_KEY_ID", default="")
ALIBABA_CLOUD_ACCESS_KEY_SECRET = env.str("ALIBABA_CLOUD_ACCESS_KEY_SECRET", default="")
SMS_ALIYUN_ENDPOINT = env.str("SMS_ALIYUN_ENDPOINT", default="dysmsapi.aliyuncs.com")
SMS_ALIYUN_PROTOCOL = env.str("SMS_ALIYUN_PROTOCOL", default="https")
TENCENTCLOUD_SECRET_ID = env.str("TENCENTCLOUD_SECRET_ID", default="")
TENCENTCLOUD_SECRET_KEY = env.str("TENCENTCLOUD_SECRET_KEY", default="")
SMS_SDK_APP_ID = env.str("SMS_SDK_APP_ID", default="")
SMS_TENCENT_REGION = env.str("SMS_TENCENT_REGION", default="ap-guangzhou")
SMS_TENCENT_ENDPOINT = env.str("SMS_TENCENT_ENDPOINT", default="sms.tencentcloudapi.com")
SMS_TENCENT_PROTOCOL = env.str("SMS_TENCENT_PROTOCOL", default="https")
# Characters a Tencent template variable may hold: what the SMS console shows for the account
# (6 for accounts opened since 2024-01-25; 0 = no limit but the message's 500 in all).
SMS_TENCENT_PARAM_MAX = env.int("SMS_TENCENT_PARAM_MAX", default=6)
# The providers' delivery receipts and replies (退订) are posted to
# /sms/callback/<provider>/<kind>/<SMS_CALLBACK_TOKEN>/; without a token they are refused.
SMS_CALLBACK_TOKEN = env.str("SMS_CALLBACK_TOKEN", default="")
SMS_CALLBACK_POSTS = env.int("SMS_CALLBACK_POSTS", default=600)  # per provider address, 10 min
_SMS_NEEDS = {
    "AliyunBackend": ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET"),
    "TencentBackend": ("TENCENTCLOUD_SECRET_ID", "TENCENTCLOUD_SECRET_KEY", "SMS_SDK_APP_ID"),
    "HttpBackend": ("SMS_HTTP_URL",),
}
if not DEBUG:
    _sms_kind = SMS_BACKEND.rsplit(".", 1)[-1]
    if _sms_kind == "ConsoleBackend" and not env.bool("SMS_CONSOLE_OK", False):
        raise ImproperlyConfigured(
            "DEBUG=False 时请配置真实的短信通道：阿里云（SMS_BACKEND="
            "couriers.messaging.providers.aliyun.AliyunBackend 及 ALIBABA_CLOUD_ACCESS_KEY_ID、"
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET、SMS_SIGN_NAME）、腾讯云（"
            "couriers.messaging.providers.tencent.TencentBackend 及 TENCENTCLOUD_SECRET_ID、"
            "TENCENTCLOUD_SECRET_KEY、SMS_SDK_APP_ID、SMS_SIGN_NAME）或短信网关（"
            "couriers.messaging.backends.HttpBackend 及 SMS_HTTP_URL、SMS_HTTP_TOKEN）；"
            "确需在控制台输出验证码请设 SMS_CONSOLE_OK=True。"
        )
    _sms_missing = [name for name in _SMS_NEEDS.get(_sms_kind, ()) if not globals()[name]]
    if _sms_kind in ("AliyunBackend", "TencentBackend") and "SMS_SIGN_NAME" not in os.environ:
        _sms_missing.append("SMS_SIGN_NAME")  # must be the signature approved there, exactly
    if _sms_missing:
        raise ImproperlyConfigured(
            f"短信通道 {_sms_kind} 缺少配置：{'、'.join(_sms_missing)}。"
            f" Set {', '.join(_sms_missing)} for SMS_BACKEND={SMS_BACKEND}."
        )

# --- The outbox (couriers/messaging/sending.py) -------------------------------------------
# Non-urgent messages due in these hours (local time, Asia/Shanghai; "" for none) wait for
# their end; codes and same-day changes go at once.
SMS_QUIET_HOURS = env.str("SMS_QUIET_HOURS", default="21:00-08:00")
if not re.fullmatch(r"(([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d)?", SMS_QUIET_HOURS):
    raise ImproperlyConfigured('SMS_QUIET_HOURS 应形如 "21:00-08:00"（留空表示不设免打扰时段）。')
# Messages one courier gets in a day (codes and urgent messages are never held by it); the
# rest wait for the next morning.
SMS_DAILY_CAP_PER_COURIER = env.int("SMS_DAILY_CAP_PER_COURIER", default=5)
# The provider's QPS: messages a second for the whole district, across every worker process.
SMS_RATE_PER_SECOND = env.int("SMS_RATE_PER_SECOND", default=10)
# Yuan per billed segment, for the dashboard's and a broadcast preview's cost estimate.
SMS_COST_PER_SEGMENT = env.float("SMS_COST_PER_SEGMENT", default=0.045)
# Broadcasts (群发通知, couriers/messaging/broadcasts.py) to more couriers than this wait
# until district staff approve them.
SMS_BROADCAST_APPROVAL_OVER = env.int("SMS_BROADCAST_APPROVAL_OVER", default=200)

# --- Points and photo reports ---------------------------------------------------------------
# Caps per category and calendar month: photo reports earn at most this many points a month.
POINTS_MONTHLY_CAPS = {"photo": env.int("POINTS_PHOTO_MONTHLY_CAP", default=30)}
PHOTO_REPORT_POINTS = env.int("PHOTO_REPORT_POINTS", default=5)
PHOTO_REPORT_ACCEPT_DAYS = env.int("PHOTO_REPORT_ACCEPT_DAYS", default=3)
PHOTO_MAX_BYTES = 10 * 1024 * 1024
PHOTO_MAX_PIXELS = 40_000_000

# --- Activities -----------------------------------------------------------------------------
# An activity's attendance QR code is accepted from this many minutes before its start until
# this many minutes after its end.
ACTIVITY_ATTENDANCE_EARLY_MINUTES = env.int("ACTIVITY_ATTENDANCE_EARLY_MINUTES", default=60)
ACTIVITY_ATTENDANCE_LATE_MINUTES = env.int("ACTIVITY_ATTENDANCE_LATE_MINUTES", default=60)

# --- Rewards (积分兑换) -------------------------------------------------------------------------
# A voucher is valid this many days after it is issued; then the worker cancels it and gives
# the points back.
REWARD_VOUCHER_DAYS = env.int("REWARD_VOUCHER_DAYS", default=30)
# Voucher codes one partner account (and one address) may look up at the counter in 10 minutes:
# enough for a busy counter, far too few to guess a code.
REWARD_COUNTER_LOOKUPS = env.int("REWARD_COUNTER_LOOKUPS", default=60)

# --- Portal ---------------------------------------------------------------------------------
# Map tiles for the station map (MAP_TILE_URL, set above for the CSP); empty hides the map.
MAP_TILE_ATTRIBUTION = _map_tiles.attribution
# Where the staff admin lives; a less guessable path keeps scanners off the login page.
ADMIN_URL = env.str("ADMIN_URL", default="admin/")
if not ADMIN_URL.endswith("/") or ADMIN_URL.startswith("/"):
    raise ImproperlyConfigured('ADMIN_URL 应形如 "admin/"：不以 / 开头，以 / 结尾。')

# --- Audit trail (django-auditlog) ----------------------------------------------------------
# Every model is tracked unless listed here: high-volume records that couriers' phones write
# (and that are their own trail), one-time codes, and other apps' bookkeeping.
AUDITLOG_INCLUDE_ALL_MODELS = True
AUDITLOG_EXCLUDE_TRACKING_MODELS = (
    "admin",
    "sessions",
    "contenttypes",
    "axes",
    "django_tasks_db",
    "couriers.phonecode",
    "couriers.phonelock",
    "couriers.ratecounter",
    "couriers.importjob",
    # The outbox writes its own history (couriers.MessageLog, with the staff member who acted);
    # its rows change with every attempt and hold codes until they are sent.
    "couriers.message",
    "couriers.messagelog",
    "stations.checkin",
    "stations.checkinmove",
    "stations.stationvisit",
    "stations.statusreport",
    "activities.pointsentry",
    "activities.photoreportevent",
)
# Fields with these names are masked in every log entry, whichever model they belong to.
AUDITLOG_MASK_TRACKING_FIELDS = ("phone", "contact_phone", "id_number", "password")
AUDITLOG_MASK_CALLABLE = "couriers.privacy.masking.mask_for_log"
# A login is not a change of personal data.
# A broadcast's list of selected couriers (up to tens of thousands of ids) is not a change
# worth a copy in the log; who sent what to how many is.
AUDITLOG_EXCLUDE_TRACKING_FIELDS = ("last_login", "audience")
AUDITLOG_DISABLE_REMOTE_ADDR = False

# --- Public form rate limits -----------------------------------------------------------------
# POSTs to public pages, counted in the database per browser and per address, so the limits
# hold across every worker. An office or a mobile network shares one address: that limit is
# wider. Views may set their own with couriers.security.ratelimit.rate_limit.
PUBLIC_POST_LIMITS = {
    "device": (env.int("RATE_LIMIT_DEVICE_POSTS", default=30), 600),
    "address": (env.int("RATE_LIMIT_ADDRESS_POSTS", default=300), 600),
}

# --- Casework and the party pipeline --------------------------------------------------------
# A courier at one waiting stage (有入党意愿, 入党积极分子, 发展对象) longer than this is
# listed as stalled.
PIPELINE_STALL_DAYS = env.int("PIPELINE_STALL_DAYS", default=180)
# A mobile party member with no organisational life nearby for longer than this is listed.
MOBILE_MEMBER_CONTACT_DAYS = env.int("MOBILE_MEMBER_CONTACT_DAYS", default=90)

# --- Benchmarks -----------------------------------------------------------------------------
# bench/pages.py sets this to mount a trivial "ok" view as its baseline; never in production.
BENCH_TRIVIAL_VIEW = env.bool("BENCH_TRIVIAL_VIEW", default=False)
