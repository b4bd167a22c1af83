"""Django's own session tests (``tests/sessions_tests``) against the
sessiond engine and a real sessiond.

The tests are taken from the sdist of the installed Django version
(``pip download``, cached under ``--cache``), never copied into this
repository. ``SessionTestsMixin`` runs with ``backend`` set to
``sessiond.django.SessionStore``, and ``SessionMiddlewareTests`` with
``SESSION_ENGINE = "sessiond.django"``. Prints the counts and exits non-zero
on any failure.

    python tests/run_django_suite.py --cache ../../target/django-sdist
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tarfile
import tempfile
import unittest
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parent))
from server import sessiond

# Tests that cannot apply to this engine, each with the reason (the package
# README lists them too), by the name of the class that runs them.
NOT_APPLICABLE: dict[tuple[str, str], str] = {
    ("SessiondMiddlewareTests", "test_empty_session_saved"): (
        "reads the db engine's django_session table (Session.objects) directly; "
        "tests/test_django_engine.py checks the same through sessiond"
    ),
}


def sessions_tests(cache: Path) -> Path:
    """The folder holding Django's ``sessions_tests`` package, from the sdist."""
    version = django.get_version()
    cache.mkdir(parents=True, exist_ok=True)
    sdists = sorted(cache.glob(f"[dD]jango-{version}.tar.gz"))
    if not sdists:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--disable-pip-version-check",
                "--no-deps",
                "--no-binary",
                ":all:",
                "--dest",
                str(cache),
                f"django=={version}",
            ],
            check=True,
        )
        sdists = sorted(cache.glob(f"[dD]jango-{version}.tar.gz"))
    where = Path(tempfile.mkdtemp(prefix="django-sessions-tests-"))
    prefix = f"{sdists[0].name[: -len('.tar.gz')]}/tests/sessions_tests/"
    with tarfile.open(sdists[0]) as sdist:
        members = [m for m in sdist.getmembers() if m.name.startswith(prefix) and m.isfile()]
        for member in members:
            member.name = "sessions_tests/" + member.name[len(prefix) :]
            sdist.extract(member, where, filter="data")
    return where


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, required=True, help="where the Django sdist is kept")
    args = parser.parse_args()
    sys.path.insert(0, str(sessions_tests(args.cache)))

    with sessiond() as server:
        from django.conf import settings

        settings.configure(
            SECRET_KEY="django-suite-against-sessiond",
            INSTALLED_APPS=[
                "django.contrib.contenttypes",
                "django.contrib.auth",
                "django.contrib.sessions",
                "sessions_tests",
            ],
            DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
            SESSION_ENGINE="sessiond.django",
            SESSIOND_TARGET=server.grpc_addr,
            USE_TZ=True,
        )
        django.setup()
        from django.test import SimpleTestCase
        from django.test.utils import get_runner
        from sessions_tests import tests  # type: ignore[import-not-found]

        from sessiond.django import SessionStore

        class SessiondSessionTests(tests.SessionTestsMixin, SimpleTestCase):  # type: ignore[misc]
            backend = SessionStore

        class SessiondMiddlewareTests(tests.SessionMiddlewareTests):  # type: ignore[misc]
            """Django's middleware tests, which use SESSION_ENGINE: ours."""

        classes = {c.__name__: c for c in (SessiondSessionTests, SessiondMiddlewareTests)}
        for (owner, name), reason in NOT_APPLICABLE.items():
            setattr(classes[owner], name, unittest.skip(reason)(lambda self: None))

        loader = unittest.TestLoader()
        suite = unittest.TestSuite(
            [
                loader.loadTestsFromTestCase(SessiondSessionTests),
                loader.loadTestsFromTestCase(SessiondMiddlewareTests),
            ]
        )
        runner = get_runner(settings)(verbosity=1)
        runner.setup_test_environment()
        old_config = runner.setup_databases()
        try:
            result = runner.run_suite(suite)
        finally:
            runner.teardown_databases(old_config)
            runner.teardown_test_environment()

    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    skipped = len(result.skipped)
    passed = result.testsRun - failed - skipped
    print(
        f"Django {django.get_version()} sessions_tests against sessiond: "
        f"{passed} passed, {skipped} skipped, {failed} failed (of {result.testsRun})"
    )
    return 1 if failed or not result.testsRun else 0


if __name__ == "__main__":
    sys.exit(main())
