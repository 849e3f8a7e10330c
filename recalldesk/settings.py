"""recalldesk settings, read from environment variables.

Every value has a default that runs a fresh checkout on SQLite with no configuration.
Set ``DATABASE_URL`` (for example ``postgres://user:pass@host/db``) to use PostgreSQL.
"""

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY", "recalldesk-insecure-development-key-change-me-in-production")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
SITE_NAME = env_str("SITE_NAME", "recalldesk")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_tasks",
    "django_tasks_db",
    "recalldesk.audit",
    "recalldesk.staff",
    "recalldesk.registry",
    "recalldesk.incidents",
    "recalldesk.outreach",
    "recalldesk.public",
    "recalldesk.remedies",
    "anymail",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_ratelimit.middleware.RatelimitMiddleware",
]

ROOT_URLCONF = "recalldesk.urls"
WSGI_APPLICATION = "recalldesk.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [
            BASE_DIR / "templates",
            *sorted((BASE_DIR / "outreach" / "channels").glob("*/templates")),
        ],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "recalldesk.staff.context.console",
            ],
        },
    },
]

DATA_DIR = Path(env_str("DATA_DIR", str(PROJECT_DIR / "var")))
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'recalldesk.sqlite3'}"),
        conn_max_age=env_int("CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server read while a worker writes; IMMEDIATE avoids the
    # "database is locked" upgrade deadlock between two writers.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
            "PRAGMA busy_timeout=30000; PRAGMA temp_store=MEMORY; PRAGMA cache_size=-200000;"
        ),
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"].setdefault("TEST", {})["NAME"] = env_str("TEST_SQLITE_NAME", "")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "incidents:list"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Tests and development serve static files straight from the apps, no collectstatic needed.
WHITENOISE_USE_FINDERS = True
MEDIA_URL = "media/"
MEDIA_ROOT = DATA_DIR / "media"

TASKS = {
    "default": {
        "BACKEND": env_str("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

# Imports: files larger than this are refused before anything is read.
IMPORT_MAX_BYTES = env_int("IMPORT_MAX_BYTES", 512 * 1024 * 1024)
IMPORT_BATCH_SIZE = env_int("IMPORT_BATCH_SIZE", 5000)
# The upload itself streams to a temporary file above this size.
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

SESSION_COOKIE_HTTPONLY = True
# HTTPS=true when the site is served over TLS (directly or behind a proxy that sets
# X-Forwarded-Proto): secure cookies, redirect to HTTPS and HSTS; check --deploy is then clean.
HTTPS = env_bool("HTTPS", False)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = env_int("HSTS_SECONDS", 31_536_000) if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = env_bool("HSTS_PRELOAD", HTTPS)
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
}

# Outreach. Email goes through SMTP by default (EMAIL_HOST/EMAIL_PORT); set EMAIL_BACKEND to
# an anymail backend (e.g. anymail.backends.postmark.EmailBackend) for an email service.
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = env_int("EMAIL_PORT", 1025)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Product Safety <safety@example.com>")
ANYMAIL = {
    key: value
    for key, value in {
        "WEBHOOK_SECRET": env_str("ANYMAIL_WEBHOOK_SECRET", ""),
        "POSTMARK_SERVER_TOKEN": env_str("POSTMARK_SERVER_TOKEN", ""),
        "SENDGRID_API_KEY": env_str("SENDGRID_API_KEY", ""),
        "MAILGUN_API_KEY": env_str("MAILGUN_API_KEY", ""),
    }.items()
    if value
}
# The address people reach the site at: signed links in notices start with it.
PUBLIC_URL = env_str("PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
COMPANY_NAME = env_str("COMPANY_NAME", "Hearthwell Home Products")
TWILIO_ACCOUNT_SID = env_str("TWILIO_ACCOUNT_SID", "")
TWILIO_AUTH_TOKEN = env_str("TWILIO_AUTH_TOKEN", "")
TWILIO_FROM_NUMBER = env_str("TWILIO_FROM_NUMBER", "")
# Apprise URLs (e.g. "mailto://...", "slack://...") that hear about failures and late work.
TEAM_ALERT_URLS = env_list("TEAM_ALERT_URLS", "")
WEBHOOK_SIGNING_SECRET = env_str("WEBHOOK_SIGNING_SECRET", SECRET_KEY)
OUTREACH_BATCH_SIZE = env_int("OUTREACH_BATCH_SIZE", 500)
# A claimed batch whose worker has not recorded a send for this long is handed out again.
OUTREACH_CLAIM_LEASE_SECONDS = env_int("OUTREACH_CLAIM_LEASE_SECONDS", 120)
OUTREACH_MAX_ATTEMPTS = env_int("OUTREACH_MAX_ATTEMPTS", 3)
# Messages per second per provider across all workers; 0 means no limit.
OUTREACH_RATE_LIMITS = {
    "email": env_int("RATE_LIMIT_EMAIL", 0),
    "sms": env_int("RATE_LIMIT_SMS", 10),
    "voice": env_int("RATE_LIMIT_VOICE", 1),
    "webhook": env_int("RATE_LIMIT_WEBHOOK", 20),
}
ACK_LINK_MAX_AGE_DAYS = env_int("ACK_LINK_MAX_AGE_DAYS", 365)

# Public pages are cached per process (each gunicorn worker keeps its own copy, keyed by the
# page's version, so a publish is seen at once); a shared cache can be set with CACHE_URL-less
# settings of your own. Rate limits on public forms count in the same cache.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "recalldesk",
        "OPTIONS": {"MAX_ENTRIES": 5000},
    }
}
RATELIMIT_VIEW = "recalldesk.public.views.rate_limited"
PUBLIC_FORM_RATE = env_str("PUBLIC_FORM_RATE", "10/m")
PUBLIC_LOOKUP_RATE = env_str("PUBLIC_LOOKUP_RATE", "120/m")
# Seconds a worker trusts its memory of a page's version before asking the database again.
PUBLIC_VERSION_TTL = env_int("PUBLIC_VERSION_TTL", 2)

# Remedies and claims: evidence uploads, and the abuse check on many claims from one
# email or address within a window.
CLAIM_EVIDENCE_MAX_BYTES = env_int("CLAIM_EVIDENCE_MAX_BYTES", 8 * 1024 * 1024)
CLAIM_VELOCITY_LIMIT = env_int("CLAIM_VELOCITY_LIMIT", 3)
CLAIM_VELOCITY_HOURS = env_int("CLAIM_VELOCITY_HOURS", 24)

LANGUAGES = [("en", "English"), ("de", "Deutsch"), ("fr", "Français"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
