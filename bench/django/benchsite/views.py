"""The three views of the benchmark site.

/login  what a login leaves in a session: a few keys, set once (the
        benchmark calls it once per wrk connection to get its cookie)
/hit    the measured view: loads the session, reads two of the login keys,
        increments a counter, so the middleware saves the session
/plain  touches no session (nothing loaded, nothing saved): the cost of
        gunicorn and Django alone, the ceiling of the other three
/peek   reads the counter without changing anything (no save), so the
        script can check afterwards that every request was counted
"""

from django.http import HttpResponse, HttpResponseForbidden, JsonResponse


def login(request):
    s = request.session
    s["user_id"] = 42
    s["username"] = "ada"
    s["roles"] = ["reader", "writer"]
    s["csrf_seed"] = "c" * 32
    s["n"] = 0
    return HttpResponse("ok\n", content_type="text/plain")


def hit(request):
    s = request.session
    user_id = s.get("user_id")
    if user_id is None:
        # Not a session made by /login: wrk counts this as non-2xx, and the
        # script fails the run, so a lost session cannot pass unseen.
        return HttpResponseForbidden("no session\n", content_type="text/plain")
    n = s.get("n", 0) + 1
    s["n"] = n
    return HttpResponse(f"{s.get('username')} {user_id} {n}\n", content_type="text/plain")


def plain(request):
    return HttpResponse("ok\n", content_type="text/plain")


def peek(request):
    return JsonResponse({"n": request.session.get("n")})
