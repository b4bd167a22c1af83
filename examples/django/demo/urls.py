"""The site's URLs: everything is in the pages app."""

from django.urls import include, path

urlpatterns = [
    path("", include("pages.urls")),
]
