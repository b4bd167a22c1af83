"""`manage.py ensure_demo_user`: the demo's login, made without a prompt.

Creates the user DEMO_USERNAME (default "demo") with the password
DEMO_PASSWORD, or resets the password of an existing one, so that running
it at every container start is safe and the environment stays the truth.
The password comes from the environment only, never argv, which every
user of the machine can read.
"""

import os

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Creates the demo user (or resets its password) from DEMO_USERNAME and DEMO_PASSWORD."

    def handle(self, *args, **options) -> None:
        username = os.environ.get("DEMO_USERNAME", "demo")
        password = os.environ.get("DEMO_PASSWORD")
        if not password:
            raise CommandError("Set DEMO_PASSWORD to the demo user's password.")
        user, created = get_user_model().objects.get_or_create(username=username)
        user.set_password(password)
        user.save()
        self.stdout.write(f"{'Created' if created else 'Updated'} the user {username!r}.")
