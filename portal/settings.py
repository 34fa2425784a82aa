"""Settings, read from the environment (see the README's configuration table).

With DEBUG off every secret and host must be given explicitly; a missing one stops start-up with a sentence that says
which variable to set.
"""

import ipaddress
import os
import tempfile
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from portal.conf import email_settings

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    if not (value.isascii() and value.isdigit()):
        raise ImproperlyConfigured(f"{name} is set to {value!r}, but it must be a whole number.")
    return int(value)


def env_required(name: str, dev_default: str) -> str:
    value = os.environ.get(name, "").strip()
    if value:
        return value
    if DEBUG:
        return dev_default
    raise ImproperlyConfigured(
        f"{name} must be set when DEBUG is off. See the README's configuration table."
    )


DEBUG = env_bool("DEBUG")

SECRET_KEY = env_required("SECRET_KEY", "dev-only-insecure-key-never-use-in-production")
ALLOWED_HOSTS = [h.strip() for h in env_required("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")]
if not DEBUG and not os.environ.get("SIWE_DOMAIN", "").strip():
    raise ImproperlyConfigured(
        "SIWE_DOMAIN must be set when DEBUG is off: the host[:port] users sign in at, e.g. portal.example.org."
    )

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "channels",
    "django_htmx",
    "template_partials",
    "ninja",  # serves Swagger UI from our static files, not a CDN (CSP, offline)
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "csp",
    "django_tasks",
    "django_tasks_db",
    "portal",
    "portal.effects",
    "portal.accounts",
    "portal.siwe",
    "governance",
    "portal.discussion",
    "portal.health",
    "portal.feedback",
    "portal.notifications",
    "portal.lending",
    "portal.people",
    "portal.search",
]

MIDDLEWARE = [
    "portal.admission.AdmissionMiddleware",  # first: a request waits in line before it reads a session or the database
    "portal.errors.DatabaseFaultMiddleware",  # it answers a database fault from any layer below with a 503
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "portal.accounts.middleware.SuspendedAccountMiddleware",
    "portal.errors.RefusalMiddleware",
    "governance.tiers.TierBatchMiddleware",
]

# DEBUG's error page does not ask the database again for a database fault.
DEFAULT_EXCEPTION_REPORTER = "portal.debug_page.DatabaseFaultReporter"

ROOT_URLCONF = "portal.urls"
ASGI_APPLICATION = "portal.asgi.application"
AUTH_USER_MODEL = "accounts.User"

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
                "portal.context_processors.portal",
            ],
            "builtins": ["portal.templatetags.portal", "django.contrib.humanize.templatetags.humanize"],
        },
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}", conn_max_age=0
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # One psycopg pool per worker process, so N workers hold at most N × DB_POOL_MAX_SIZE connections (the README
    # sizes it against max_connections). An exhausted pool makes a request wait DB_POOL_TIMEOUT seconds, then 503.
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env_int("DB_POOL_MIN_SIZE", 2),
        "max_size": env_int("DB_POOL_MAX_SIZE", 10),
        "timeout": env_int("DB_POOL_TIMEOUT", 5),
    }
    # A pooled connection is checked (one empty round trip) before a request gets it, so one that PostgreSQL closed
    # meanwhile (a restart, pg_terminate_backend, an idle timeout) is replaced instead of failing the request.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Concurrent votes and comments from several ASGI threads: wait for the write lock instead of failing, and take
    # it when the transaction begins (IMMEDIATE), so two readers never deadlock upgrading to writers. WAL: readers
    # neither block the writer nor wait for it; synchronous=NORMAL is durable in WAL mode except for the last
    # transactions before a power cut (never corrupt), and saves an fsync per commit.
    DATABASES["default"].setdefault("OPTIONS", {}).update({
        "timeout": 20, "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
    })
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory, so the browser tests' server thread and the test share one database.
    # One file per test process, so concurrent runs in one checkout never share it.
    DATABASES["default"]["TEST"] = {"NAME": str(Path(tempfile.gettempdir()) / f"portal-test-{os.getpid()}.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Admission control (portal/admission.py): requests one worker process runs at once, and the seconds a request past
# that waits in line before it answers 503. Each admitted request may hold one pooled connection, so a web server
# refuses to start with a cap above the pool (the default leaves two for live updates and sockets outside requests);
# task workers and the sampler serve no requests and may run with a smaller pool.
REQUEST_CONCURRENCY = env_int("REQUEST_CONCURRENCY", 8)
REQUEST_QUEUE_TIMEOUT = env_int("REQUEST_QUEUE_TIMEOUT", 30)
if REQUEST_CONCURRENCY < 1:
    raise ImproperlyConfigured("REQUEST_CONCURRENCY must be at least 1: the requests one worker runs at once.")

REDIS_URL = os.environ.get("REDIS_URL", "").strip()
# No socket timeout: channels_redis blocks on reads for up to 5 s, redis-py 8's default timeout is also 5 s, and idle
# consumers would die with "Timeout reading from …". The layer drops connections a Redis restart closed
# (portal/channel_layer.py), so the first sockets after it work.
REDIS_CHANNEL_OPTIONS = {"socket_timeout": None, "socket_connect_timeout": 2}
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "portal.channel_layer.RecoveringRedisChannelLayer",
            "CONFIG": {"hosts": [{**REDIS_CHANNEL_OPTIONS, "address": REDIS_URL}]},
        }
    }
    # Degrades to this process's memory while Redis is down (portal/cache.py); short timeouts so a dead Redis
    # costs a page one refused connection, not a hang.
    CACHES = {
        "default": {
            "BACKEND": "portal.cache.DegradingRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "portal"}}

# Background tasks (django-tasks, the backport of Django 6's django.tasks) stored in the site's own database, so
# the embedded SQLite default and PostgreSQL need nothing more; run workers with `manage.py db_worker`.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

# E-mail (CONTRACT: EMAIL_URL). Unset: caught in the database (portal.notifications.mailbox), readable at /dev/mail/
# with DEBUG on; `check --deploy` warns that nothing is delivered.
EMAIL_URL = os.environ.get("EMAIL_URL", "").strip()
globals().update(email_settings(EMAIL_URL))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "").strip() or "Lending DAO Portal <portal@localhost>"
SERVER_EMAIL = DEFAULT_FROM_EMAIL

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

# allauth: a wallet is the login; no passwords. E-mail is optional, added and verified by link on the account page
# (allauth's EmailAddress and HMAC confirmations); an address verified by one account cannot be added by another.
ACCOUNT_LOGIN_METHODS = {"username"}
ACCOUNT_SIGNUP_FIELDS = ["username*"]
ACCOUNT_EMAIL_VERIFICATION = "optional"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_PREVENT_ENUMERATION = False
ACCOUNT_EMAIL_CONFIRMATION_HMAC = True
ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS = 3
ACCOUNT_MAX_EMAIL_ADDRESSES = 5
ACCOUNT_EMAIL_SUBJECT_PREFIX = ""
ACCOUNT_ADAPTER = "portal.accounts.adapter.AccountAdapter"
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http" if DEBUG else "https"
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_EMAIL_REQUIRED = False
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_QUERY_EMAIL = False
SOCIALACCOUNT_ADAPTER = "portal.siwe.adapter.SiweSocialAccountAdapter"
# SIWE needs no client id or secret; allauth still wants an app record, so it is given here rather than in the DB.
SOCIALACCOUNT_PROVIDERS = {"siwe": {"APP": {"client_id": "siwe", "secret": "", "key": ""}}}
LOGIN_URL = "/"
LOGIN_REDIRECT_URL = "/"
ACCOUNT_LOGOUT_REDIRECT_URL = "/"

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
NODE_MODULES = BASE_DIR / "node_modules"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/htmx", NODE_MODULES / "htmx.org" / "dist"),
    ("vendor/htmx-ext-ws", NODE_MODULES / "htmx-ext-ws" / "dist"),
    ("vendor/uplot", NODE_MODULES / "uplot" / "dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# Security: strict defaults in production; check --deploy is clean with DEBUG off.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]
# The reverse proxies whose X-Forwarded-For is believed (addresses or CIDRs); empty → the header is ignored.
TRUSTED_PROXIES = [p.strip() for p in os.environ.get("TRUSTED_PROXIES", "").split(",") if p.strip()]
for _proxy in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"TRUSTED_PROXIES entry {_proxy!r} is not an IP address or network (e.g. 10.0.0.5 or 10.0.0.0/24)."
        ) from None
# Websocket Origins accepted (scheme, host and port compared exactly): the site's own origins.
SITE_ORIGINS = [
    *CSRF_TRUSTED_ORIGINS,
    *([f"https://{os.environ['SIWE_DOMAIN'].strip()}"] if os.environ.get("SIWE_DOMAIN", "").strip() else []),
    *(
        origin
        for host in ALLOWED_HOSTS
        for origin in (f"http://{host}", f"http://{host}:{os.environ.get('PORT', '8000')}")
        if DEBUG and host and host != "*"
    ),
]
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

from csp.constants import NONE, SELF  # noqa: E402

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        # htmx sets inline styles for its indicator and swap classes; scripts stay strict.
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:", "https:"],
        "connect-src": [SELF, "ws:", "wss:"] if DEBUG else [SELF, "wss:"],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.channels.server": {"level": "WARNING"}},
}


def _chain_rpc_urls(raw: str) -> dict[int, str]:
    """`CHAIN_RPC_URLS="10=https://…,137=https://…"`: extra chains for multichain strategies."""
    urls: dict[int, str] = {}
    for item in filter(None, (part.strip() for part in raw.split(","))):
        chain_id, _, url = item.partition("=")
        chain_id = chain_id.strip()
        if not (chain_id.isascii() and chain_id.isdigit()) or not url:
            raise ImproperlyConfigured(f"CHAIN_RPC_URLS entry {item!r} is not of the form CHAIN_ID=URL.")
        urls[int(chain_id)] = url.strip()
    return urls


# Everything portal-specific lives in one dict, read through portal.conf.portal_settings(), which holds every key's
# type and default and validates them at start-up. Environment values pass through as text; only set ones.
_PORTAL_FROM_ENV = (
    "CHAIN_ID", "SIWE_DOMAIN", "GOVERNANCE_NAME", "SITE_NAME", "SITE_URL", "MULTICALL_ADDRESS", "SNAPSHOT_CONFIRMATIONS",
    "WEIGHT_CHUNK_SIZE", "WEIGHT_READ_WORKERS", "TIER_CACHE_SECONDS", "BADGE_WEIGHT", "PROPOSAL_THRESHOLD",
    "HEALTH_REFERENCE_RPC_URL", "LENDING_POOL_ADDRESS", "LENDING_POOL_KIND", "DELEGATION_FROM_BLOCK",
)
PORTAL = {
    "CHAIN_RPC_URL": os.environ.get("CHAIN_RPC_URL", "").strip()
    or f"http://127.0.0.1:{os.environ.get('CHAIN_PORT', '8545')}",
    "CHAIN_RPC_URLS": _chain_rpc_urls(os.environ.get("CHAIN_RPC_URLS", "")),
    "REFUSE_DEV_KEYS": not DEBUG,
    **{key: os.environ[key].strip() for key in _PORTAL_FROM_ENV if os.environ.get(key, "").strip()},
    # Production contract addresses; the dev chain's come from .devchain/deployments.json (written by seed_demo).
    "CONTRACTS": {
        name: os.environ[var].strip()
        for var, name in (
            ("LOYALTY_TOKEN_ADDRESS", "LoyaltyToken"),
            ("ACHIEVEMENT_BADGE_ADDRESS", "AchievementBadge"),
            ("LENDING_POOL_ADDRESS", "LendingPool"),
            ("PRICE_ORACLE_ADDRESS", "DemoPriceOracle"),
        )
        if os.environ.get(var, "").strip()
    },
}
