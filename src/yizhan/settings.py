"""Settings, all overridable from environment variables (see README, "Production")."""

import os
import sys
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [part.strip() for part in os.environ.get(name, default).split(",") if part.strip()]


PACKAGE_DIR = Path(__file__).resolve().parent
# var/ sits beside src/ in a checkout; installed elsewhere, point YIZHAN_VAR_DIR at a writable folder.
VAR_DIR = Path(os.environ.get("YIZHAN_VAR_DIR", PACKAGE_DIR.parent.parent / "var")).resolve()

DEBUG = env_bool("YIZHAN_DEBUG", False)
TESTING = env_bool("YIZHAN_TESTING", "pytest" in sys.modules)

SECRET_KEY = os.environ.get("YIZHAN_SECRET_KEY", "")
if not SECRET_KEY:
    if not (DEBUG or TESTING):
        raise ImproperlyConfigured("Set YIZHAN_SECRET_KEY (or YIZHAN_DEBUG=1 for a local demo).")
    SECRET_KEY = "insecure-local-demo-key-never-use-in-production-0123456789abcdef"

ALLOWED_HOSTS = env_list(
    "YIZHAN_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver" if (DEBUG or TESTING) else ""
)
CSRF_TRUSTED_ORIGINS = env_list("YIZHAN_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "ninja",
    "csp",
    "django_q",
    "django_ratelimit",
    "yizhan.core",
    "yizhan.orgs",
    "yizhan.audit",
    "yizhan.stations",
    "yizhan.locator",
    "yizhan.visits",
    "yizhan.remittance",
    "yizhan.cases",
    "yizhan.operations",
    "yizhan.jobs",
    "yizhan.notify",
    "yizhan.supplies",
    "yizhan.events",
    "yizhan.planning",
    "yizhan.training",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # After whitenoise: static files need no policy; every page, error pages included, gets one.
    "yizhan.core.middleware.CSPMiddleware",
    "yizhan.core.middleware.StaffNoStoreMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "yizhan.core.middleware.PreferencesMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "yizhan.core.boundary.InputBoundaryMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "yizhan.orgs.middleware.ScopeMiddleware",
    "yizhan.audit.middleware.AuditChannelMiddleware",
    "yizhan.core.views.SiteErrorPagesMiddleware",
]

ROOT_URLCONF = "yizhan.urls"
# A form that fails the CSRF check gets the site's own page, in the reader's language.
CSRF_FAILURE_VIEW = "yizhan.core.views.csrf_failure"
WSGI_APPLICATION = "yizhan.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "yizhan.core.context_processors.site",
            ],
        },
    }
]

# The embedded default: SQLite in WAL mode; writers take the lock up front (IMMEDIATE) so
# concurrent writers queue on busy_timeout instead of failing with "database is locked".
SQLITE_OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
}
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
else:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": VAR_DIR / "yizhan.sqlite3"}}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(SQLITE_OPTIONS)
    # Kept open between requests, as on PostgreSQL: opening a SQLite connection (and its PRAGMAs)
    # and closing the last one (a WAL checkpoint) cost more than a whole check-in.
    DATABASES["default"]["CONN_MAX_AGE"] = 60
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# One Redis for the shared cache, the rate-limit counters and the job queue's broker, where set.
# YIZHAN_CACHE_URL, its name before, still works.
YIZHAN_REDIS_URL = os.environ.get("YIZHAN_REDIS_URL") or os.environ.get("YIZHAN_CACHE_URL", "")
# Shared across worker processes.
if YIZHAN_REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
    _shared_cache = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": YIZHAN_REDIS_URL}
elif TESTING:
    _shared_cache = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "shared"}
else:
    _shared_cache = {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": VAR_DIR / "cache",
        "OPTIONS": {"MAX_ENTRIES": 100_000},
    }
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "local"},
    "shared": _shared_cache,
    # Rate-limit counters need an atomic add/incr: Redis, or else a table (yizhan.core.counters).
    "ratelimit": (
        _shared_cache
        if _shared_cache["BACKEND"].endswith("RedisCache")
        else {"BACKEND": "yizhan.core.counters.CounterCache"}
    ),
}
RATELIMIT_USE_CACHE = "ratelimit"
# django-ratelimit warns about any backend but django-redis and memcached; Django's own RedisCache
# and CounterCache both increment atomically (yizhan/core/counters.py says why the check is wrong here).
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.W001"]

# The job queue (django-q2). The database is the broker by default: nothing more to run. With
# YIZHAN_REDIS_URL set, Redis is, so that workers on several machines share one queue.
# A job's worker renews its lease (yizhan.jobs.services); `timeout` only stops a runaway task.
Q_CLUSTER = {
    "name": "yizhan",
    "workers": int(os.environ.get("YIZHAN_WORKERS", "2")),
    "timeout": 1800,
    "retry": 1900,
    "max_attempts": 1,  # retries are the sweeper's decision (jobs.services), not a blind redelivery
    "ack_failures": True,
    "save_limit": 200,
    "catch_up": False,  # a worker down overnight runs a daily schedule once, not once per missed day
    "poll": 0.5,
    "label": _("Jobs"),
    "time_zone": "Asia/Shanghai",
}
if YIZHAN_REDIS_URL:
    Q_CLUSTER["redis"] = YIZHAN_REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "orgs:login"
LOGIN_REDIRECT_URL = "orgs:home"
LOGOUT_REDIRECT_URL = "orgs:login"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
MEDIA_URL = "/media/"
MEDIA_ROOT = VAR_DIR / "media"
for _folder in (VAR_DIR, STATIC_ROOT, MEDIA_ROOT):
    # whitenoise warns about a missing STATIC_ROOT and SQLite needs its folder: create them up front.
    _folder.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if (DEBUG or TESTING)
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG or TESTING
# Input limits, enforced at the boundary (yizhan.core.boundary) with a clear 400 / 413.
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024  # a JSON body, or a form's fields without its files
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
DATA_UPLOAD_MAX_NUMBER_FILES = 10  # no form takes more than one file
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024  # larger uploads spill to a temporary file
# A whole request, files included: above the largest import (30 MB of remittances).
YIZHAN_MAX_REQUEST_BYTES = int(os.environ.get("YIZHAN_MAX_REQUEST_BYTES", str(32 * 1024 * 1024)))

# Production hardening; `yizhan check --deploy` is clean with YIZHAN_DEBUG unset.
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("YIZHAN_SSL_REDIRECT", not TESTING)
    if not SECURE_SSL_REDIRECT:
        # Switched off on purpose (the TLS proxy redirects): keeps `check --deploy` clean.
        SILENCED_SYSTEM_CHECKS = [*SILENCED_SYSTEM_CHECKS, "security.W008"]
    SECURE_HSTS_SECONDS = int(os.environ.get("YIZHAN_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Every cookie is Secure in production: Django's (session, CSRF, language) here, the app's own
# (yz_device, yz_large) through yizhan.core.middleware.set_cookie, which follows SESSION_COOKIE_SECURE.
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = LANGUAGE_COOKIE_SECURE = not (DEBUG or TESTING)
SESSION_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
# Every asset is vendored and served from here, so the policy allows this origin only, with a
# per-request nonce for the odd inline script or style (`{{ request.csp_nonce }}`); none of the
# templates has inline script, style or event handlers. data: images: Leaflet's blank tile and
# Swagger UI's icons. A configured YIZHAN_TILE_URL's origin is added to img-src by the middleware.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
SECURE_REFERRER_POLICY = "same-origin"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("YIZHAN_LOG_LEVEL", "INFO")},
    "loggers": {"django.request": {"level": "ERROR"}},
}

# --- Yizhan's own settings -------------------------------------------------------------
# --- Client address and rate limits (README: "Rate limits and proxies") ---
# How many proxies of ours stand in front (each appends to X-Forwarded-For); 0: use REMOTE_ADDR.
# The documented YIZHAN_TRUST_X_FORWARDED_FOR=1 of before means one.
YIZHAN_TRUSTED_PROXIES = int(
    os.environ.get("YIZHAN_TRUSTED_PROXIES") or int(env_bool("YIZHAN_TRUST_X_FORWARDED_FOR", False))
)
# Login: failures within the window per username and address together; ceilings per username
# (many addresses guessing one password) and per address (one address trying many usernames).
YIZHAN_LOGIN_MAX_FAILURES = int(os.environ.get("YIZHAN_LOGIN_MAX_FAILURES", "5"))
YIZHAN_LOGIN_MAX_FAILURES_PER_USER = int(os.environ.get("YIZHAN_LOGIN_MAX_FAILURES_PER_USER", "20"))
YIZHAN_LOGIN_MAX_FAILURES_PER_ADDRESS = int(os.environ.get("YIZHAN_LOGIN_MAX_FAILURES_PER_ADDRESS", "50"))
YIZHAN_LOGIN_WINDOW_SECONDS = int(os.environ.get("YIZHAN_LOGIN_WINDOW_SECONDS", "900"))
# Public check-ins, reports and confirmations per address: "checkin=120/600,report=10/3600".
YIZHAN_VISITS_RATE_LIMITS = {
    kind: tuple(int(n) for n in rate.split("/", 1))
    for kind, _sep, rate in (part.partition("=") for part in env_list("YIZHAN_VISITS_RATE_LIMITS"))
}
# Map tiles for the public locator: empty means a plain background (offline-safe default).
# Caps of the one file reader every import shares (yizhan/core/filereader.py; README "For developers").
# A file over any of them is refused before it is parsed, with a message naming the cap.
YIZHAN_IMPORT_LIMITS = {
    "upload_bytes": int(os.environ.get("YIZHAN_IMPORT_MAX_MB", "30")) * 2**20,
    "members": 1_000,  # parts in an xlsx zip
    "member_bytes": 256 * 2**20,  # one part, uncompressed (a 15,000-row station sheet is 28 MB)
    "total_bytes": 320 * 2**20,  # all parts, uncompressed
    "ratio": 100,  # uncompressed : compressed, for parts over 1 MB (real sheets: 10-20)
    "rows": int(os.environ.get("YIZHAN_IMPORT_MAX_ROWS", "200000")),
    "columns": 200,
    "cell_chars": 2_000,
}

YIZHAN_TILE_URL = os.environ.get("YIZHAN_TILE_URL", "")
YIZHAN_TILE_CRS = os.environ.get("YIZHAN_TILE_CRS", "wgs84")  # gcj02 for Amap / Tencent tiles
YIZHAN_TILE_ATTRIBUTION = os.environ.get("YIZHAN_TILE_ATTRIBUTION", "")
# Public base URL printed into QR codes; empty means the URL of the request.
YIZHAN_PUBLIC_BASE_URL = os.environ.get("YIZHAN_PUBLIC_BASE_URL", "")

# Notifications (yizhan.notify). Quiet hours in Beijing time: non-urgent messages wait for the morning.
YIZHAN_NOTIFY_QUIET_HOURS = (
    int(os.environ.get("YIZHAN_NOTIFY_QUIET_FROM", "22")),
    int(os.environ.get("YIZHAN_NOTIFY_QUIET_UNTIL", "8")),
)
# Per-recipient caps, [(window seconds, most messages)], as the SMS providers enforce them for
# notification templates (Aliyun: 1 a minute, 5 an hour, 10 a day to one number).
YIZHAN_NOTIFY_CAPS = {
    "sms": [(60, 1), (3600, 5), (86400, 10)],
    "email": [(3600, 30)],
    "bot": [(60, 20)],
}
# A broadcast to more staff than this waits for a second admin's approval (maker-checker).
YIZHAN_NOTIFY_APPROVAL_ABOVE = int(os.environ.get("YIZHAN_NOTIFY_APPROVAL_ABOVE", "50"))
# A batch a killed worker held in "sending" goes back to the queue after this long.
YIZHAN_NOTIFY_SENDING_LEASE_SECONDS = int(os.environ.get("YIZHAN_NOTIFY_SENDING_LEASE_SECONDS", "300"))
# The adapter per channel (yizhan.notify.channels); the default outbox sends nothing outside.
YIZHAN_NOTIFY_BACKENDS = {}
_SMS_PROVIDERS = {
    "aliyun": "yizhan.notify.channels.AliyunSms",
    "tencent": "yizhan.notify.channels.TencentSms",
}
if os.environ.get("YIZHAN_NOTIFY_SMS"):
    if os.environ["YIZHAN_NOTIFY_SMS"] not in _SMS_PROVIDERS:
        raise ImproperlyConfigured("YIZHAN_NOTIFY_SMS is aliyun or tencent.")
    YIZHAN_NOTIFY_BACKENDS["sms"] = _SMS_PROVIDERS[os.environ["YIZHAN_NOTIFY_SMS"]]
if os.environ.get("YIZHAN_NOTIFY_BOTS") == "apprise":
    YIZHAN_NOTIFY_BACKENDS["bot"] = "yizhan.notify.channels.AppriseBot"
# A shared secret the SMS provider's reply callback presents (Authorization: Bearer …); unset = off.
YIZHAN_NOTIFY_REPLY_TOKEN = os.environ.get("YIZHAN_NOTIFY_REPLY_TOKEN", "")
# Delivery receipts (POST /api/v1/notify/receipts/<provider>?token=…); unset = off.
YIZHAN_NOTIFY_RECEIPT_TOKEN = os.environ.get("YIZHAN_NOTIFY_RECEIPT_TOKEN", "")
# How long a provider may take to answer before the message counts as a temporary failure.
YIZHAN_NOTIFY_TIMEOUT_SECONDS = float(os.environ.get("YIZHAN_NOTIFY_TIMEOUT_SECONDS", "5"))
# The SMS providers (chosen with YIZHAN_NOTIFY_BACKENDS = {"sms": "yizhan.notify.channels.AliyunSms"}).
YIZHAN_NOTIFY_ALIYUN = {
    "access_key_id": os.environ.get("YIZHAN_ALIYUN_SMS_KEY_ID", ""),
    "access_key_secret": os.environ.get("YIZHAN_ALIYUN_SMS_KEY_SECRET", ""),
    "endpoint": os.environ.get("YIZHAN_ALIYUN_SMS_ENDPOINT", "https://dysmsapi.aliyuncs.com"),
}
YIZHAN_NOTIFY_TENCENT = {
    "secret_id": os.environ.get("YIZHAN_TENCENT_SMS_SECRET_ID", ""),
    "secret_key": os.environ.get("YIZHAN_TENCENT_SMS_SECRET_KEY", ""),
    "sdk_app_id": os.environ.get("YIZHAN_TENCENT_SMS_APP_ID", ""),
    "region": os.environ.get("YIZHAN_TENCENT_SMS_REGION", "ap-guangzhou"),
    "endpoint": os.environ.get("YIZHAN_TENCENT_SMS_ENDPOINT", "https://sms.tencentcloudapi.com"),
}
# Group bots go to their provider's host; set (scheme://host:port) only to reach a stub.
YIZHAN_NOTIFY_BOT_ENDPOINT = os.environ.get("YIZHAN_NOTIFY_BOT_ENDPOINT", "")

if TESTING:
    # Hashing demo passwords at full strength would dominate the suite's run time.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
