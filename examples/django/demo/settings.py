"""Settings for the sessiond Django example.

Sessions live in sessiond (SESSION_ENGINE = "sessiond.django"), so every
gunicorn worker, and every container running this image, sees the same
sessions; users live in SQLite through django.contrib.auth. Everything a
deployment changes comes from the environment:

  SESSIOND_TARGET      sessiond's gRPC address, host:port (127.0.0.1:50051)
  SESSIOND_TOKEN_FILE  a file holding the bearer token sessiond admits
  DJANGO_SECRET_KEY    signs CSRF tokens and password-reset links
  DJANGO_DB_PATH       the SQLite file holding the users (./db.sqlite3)
  DJANGO_ALLOWED_HOSTS comma-separated host names (localhost, 127.0.0.1,
                       [::1] and "example", the compose service)
  DEBUG                "1" or "true" for Django's debug pages (off)
"""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

# The default only serves a local demo: set DJANGO_SECRET_KEY anywhere else.
SECRET_KEY = os.environ.get(
    "DJANGO_SECRET_KEY", "django-insecure-sessiond-example-for-local-development-only"
)

DEBUG = os.environ.get("DEBUG", "").lower() in {"1", "true", "yes", "on"}

# This machine's names, and "example", the service's name in docker-compose.yml.
LOCAL_HOSTS = "localhost,127.0.0.1,[::1],example"
ALLOWED_HOSTS = os.environ.get("DJANGO_ALLOWED_HOSTS", LOCAL_HOSTS).split(",")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "pages",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "demo.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
            ],
        },
    },
]

WSGI_APPLICATION = "demo.wsgi.application"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("DJANGO_DB_PATH", BASE_DIR / "db.sqlite3"),
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"

# Sessions: stored in sessiond, read and written over gRPC.
SESSION_ENGINE = "sessiond.django"
SESSIOND_TARGET = os.environ.get("SESSIOND_TARGET", "127.0.0.1:50051")
SESSIOND_TOKEN_FILE = os.environ.get("SESSIOND_TOKEN_FILE") or None

# The session cookie: HttpOnly and SameSite=Lax as Django's defaults are.
# Secure is off ONLY because this demo is served over plain http on
# localhost; behind HTTPS set SESSION_COOKIE_SECURE and CSRF_COOKIE_SECURE
# to True, or browsers send the session id in the clear.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Errors and gunicorn's own messages go to stderr, where containers collect them.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
