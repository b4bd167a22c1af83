from django.apps import AppConfig


class PagesConfig(AppConfig):
    """The example's only app: its views, templates and management command."""

    name = "pages"
