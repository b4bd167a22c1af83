"""The example's views: log in, count visits in the session, log out.

Everything a view keeps between requests is in request.session, which
sessiond holds, so any gunicorn worker (or any replica) can answer the next
request. /whoami also says which worker process answered, for the tests.
"""

import os

from django.contrib.auth import authenticate, login, logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST


def visits(request: HttpRequest) -> int:
    """The session's counter; a session that never counted has 0."""
    return request.session.get("visits", 0)


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Whether the visitor is logged in, as whom, and the session's counter."""
    return render(request, "pages/home.html", {"visits": visits(request)})


@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    """The login form; a correct username and password log the user in.

    login() gives the session a new id (cycle_key: sessiond's Rotate) and
    keeps its data, so a session id planted before login (session fixation)
    is worthless after it.
    """
    error = None
    if request.method == "POST":
        user = authenticate(
            request,
            username=request.POST.get("username", ""),
            password=request.POST.get("password", ""),
        )
        if user is not None:
            login(request, user)
            return redirect("home")
        error = "Wrong username or password."
    return render(request, "pages/login.html", {"error": error})


@require_POST
def visit(request: HttpRequest) -> HttpResponse:
    """Counts one more visit in the session (creating the session if need be)."""
    request.session["visits"] = visits(request) + 1
    return redirect("home")


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    """Logs out: logout() flushes the session, deleting it in sessiond, and
    the session middleware expires the cookie."""
    logout(request)
    return redirect("home")


@require_POST
def logout_everywhere_else(request: HttpRequest) -> JsonResponse:
    """Logs the user out on every other device, in one call: the engine
    bound each of the user's sessions to them at login (_auth_user_id)."""
    revoked = request.session.revoke_other_sessions()  # type: ignore[attr-defined]
    return JsonResponse({"revoked": revoked})


@require_GET
def devices(request: HttpRequest) -> JsonResponse:
    """Where the user is signed in: each session by its handle (never its
    id), the current one marked."""
    sessions = request.session.user_sessions()  # type: ignore[attr-defined]
    return JsonResponse(
        {
            "sessions": [
                {"handle": s.handle, "last_seen": s.last_seen.isoformat(), "current": s.current}
                for s in sessions
            ]
        }
    )


@require_GET
def whoami(request: HttpRequest) -> JsonResponse:
    """The user, the counter and this worker's pid, as JSON."""
    return JsonResponse(
        {
            "username": request.user.get_username() if request.user.is_authenticated else None,
            "visits": visits(request),
            "pid": os.getpid(),
        }
    )
