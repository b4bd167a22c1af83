"""Settings of the benchmark site (bench/django.sh, issue 14).

One site, three session engines: BENCH_ENGINE picks which one this process
uses, so that the three gunicorn servers of a run differ in nothing else.

  sessiond  sessiond.django against SESSIOND_TARGET (a local release sessiond)
  cache     django.contrib.sessions.backends.cache on Django's RedisCache
            against BENCH_REDIS_URL (redis-py, with hiredis when installed)
  db        django.contrib.sessions.backends.db on SQLite (BENCH_SQLITE)

The site is as small as a real one can be: one middleware (sessions), no
templates, no auth, no CSRF, no logging of requests, DEBUG off.
"""

import os

BENCH_ENGINE = os.environ.get("BENCH_ENGINE", "db")

SECRET_KEY = "bench-only-not-secret-" + "x" * 40
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "benchsite.urls"
WSGI_APPLICATION = "benchsite.wsgi.application"
USE_TZ = True

# The db engine needs its model; the other two need no app at all.
INSTALLED_APPS = ["django.contrib.sessions"]
MIDDLEWARE = ["django.contrib.sessions.middleware.SessionMiddleware"]

# SQLite as fast as it goes while still being a database: WAL, so readers do
# not block the writer, and synchronous=NORMAL, so a commit does not wait for
# fsync (the other two stores keep sessions in memory only). The connection
# is kept for the life of the worker (CONN_MAX_AGE=None) rather than opened
# per request, and writes take the lock at BEGIN (IMMEDIATE), the mode
# Django's docs advise against "database is locked" under concurrent workers.
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("BENCH_SQLITE", "/tmp/bench-django.sqlite3"),
        "CONN_MAX_AGE": None,
        "OPTIONS": {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        },
    }
}

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"),
    }
}

if BENCH_ENGINE == "sessiond":
    SESSION_ENGINE = "sessiond.django"
    SESSIOND_TARGET = os.environ.get("SESSIOND_TARGET", "127.0.0.1:50051")
elif BENCH_ENGINE == "cache":
    SESSION_ENGINE = "django.contrib.sessions.backends.cache"
elif BENCH_ENGINE == "db":
    SESSION_ENGINE = "django.contrib.sessions.backends.db"
else:
    raise RuntimeError(f"BENCH_ENGINE must be sessiond, cache or db, not {BENCH_ENGINE!r}")

# Django's defaults otherwise: JSON serializer, cookie "sessionid", 2 weeks.
SESSION_COOKIE_SECURE = False
