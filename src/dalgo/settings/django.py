"""Django proper: apps, database, cache, auth, security, email."""

from __future__ import annotations

from typing import Any

import dj_database_url
import django_stubs_ext

from dalgo.settings.components import DALGO_DATA_DIR, DALGO_PRODUCTION, DALGO_REDIS_URL
from dalgo.settings.env import env_bool, env_int, env_list, env_str, secret_key

django_stubs_ext.monkeypatch()  # generic admin/queryset classes at run time

SECRET_KEY = secret_key(DALGO_DATA_DIR)
DEBUG = env_bool("DALGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DALGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("DALGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "dalgo.core",
    "dalgo.accounts",
    "dalgo.orgs",
    "dalgo.runs",
    "dalgo.warehouses",
    "dalgo.ingestion",
    "dalgo.system",
    "dalgo.web",
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
]

ROOT_URLCONF = "dalgo.urls"
ASGI_APPLICATION = "dalgo.asgi.application"
WSGI_APPLICATION = "dalgo.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

DATABASES: dict[str, Any] = {
    "default": dj_database_url.parse(
        env_str("DALGO_DATABASE_URL", f"sqlite:///{DALGO_DATA_DIR / 'app.sqlite3'}"),
        conn_max_age=env_int("DALGO_DB_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool("DALGO_DB_POOL", True):
    # A connection pool per process: under ASGI, persistent per-thread connections pile up until
    # PostgreSQL refuses clients (measured with bench/api.py: "too many clients" at 50 clients).
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "pool": {"min_size": 1, "max_size": env_int("DALGO_DB_POOL_SIZE", 10), "timeout": 10}
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + a busy timeout let web, Celery and Prefect workers share the file safely.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

if DALGO_REDIS_URL:
    CACHES: dict[str, Any] = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": DALGO_REDIS_URL,
            "KEY_PREFIX": env_str("DALGO_CACHE_PREFIX", "dalgo"),
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(DALGO_DATA_DIR / "cache"),
        }
    }

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = str(DALGO_DATA_DIR / "static")
(DALGO_DATA_DIR / "static").mkdir(exist_ok=True)
WHITENOISE_USE_FINDERS = True

# Sessions and cookies. The UI reads the CSRF cookie and sends it back as X-CSRFToken.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 60 * 60 * 24 * 14
CSRF_COOKIE_HTTPONLY = False
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if DALGO_PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("DALGO_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("DALGO_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Email: SMTP when DALGO_EMAIL_HOST is set, otherwise files under the data directory so a demo
# user can read their reset and invitation links.
DEFAULT_FROM_EMAIL = env_str("DALGO_EMAIL_FROM", "Dalgo <no-reply@dalgo.local>")
if env_str("DALGO_EMAIL_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = env_str("DALGO_EMAIL_HOST")
    EMAIL_PORT = env_int("DALGO_EMAIL_PORT", 587)
    EMAIL_HOST_USER = env_str("DALGO_EMAIL_USER")
    EMAIL_HOST_PASSWORD = env_str("DALGO_EMAIL_PASSWORD")
    EMAIL_USE_TLS = env_bool("DALGO_EMAIL_TLS", False)
    EMAIL_TIMEOUT = 10
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(DALGO_DATA_DIR / "emails")

# Login throttling: failures per (email, IP) and per IP within the window.
DALGO_LOGIN_MAX_FAILURES = env_int("DALGO_LOGIN_MAX_FAILURES", 5)
DALGO_LOGIN_WINDOW_SECONDS = env_int("DALGO_LOGIN_WINDOW_SECONDS", 900)
DALGO_INVITATION_DAYS = 7

LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "structured": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "structured"}},
    "root": {"handlers": ["console"], "level": env_str("DALGO_LOG_LEVEL", "INFO")},
    "loggers": {"django.server": {"level": "WARNING"}, "httpx": {"level": "WARNING"}},
}
