from django.urls import path

from . import views

urlpatterns = [
    path("login", views.login),
    path("hit", views.hit),
    path("plain", views.plain),
    path("peek", views.peek),
]
