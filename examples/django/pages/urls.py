from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("login", views.login_view, name="login"),
    path("visit", views.visit, name="visit"),
    path("logout", views.logout_view, name="logout"),
    path("whoami", views.whoami, name="whoami"),
    path("devices", views.devices, name="devices"),
    path("logout-everywhere-else", views.logout_everywhere_else, name="logout_everywhere_else"),
]
