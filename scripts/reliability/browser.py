"""The HTTP gateway in a real browser (RELIABILITY.md, issue 18): headless
Chromium, driven over WebDriver by the Debian chromedriver, against a real
sessiond on loopback, once over TLS (a self-signed certificate made here,
whose key the browser is told to trust by its SPKI hash) and once over
plain HTTP (``--cookie-secure false``).

In each mode the browser, from a page of the gateway's own origin:

- creates a session with ``fetch``: the cookie the browser keeps is
  ``HttpOnly``, ``SameSite=Lax``, ``Path=/``, host-only, ``Secure`` exactly
  over TLS, with a ``Max-Age`` of the idle timeout; ``document.cookie`` does
  not show it and a script cannot overwrite it;
- is attacked from pages on two other loopback origins (``127.0.0.1`` on
  another port: cross-origin but same-site, so the Lax cookie is sent; and
  ``localhost``: cross-site), which auto-submit HTML forms (``text/plain``
  JSON-lookalike and urlencoded) to ``POST /session`` and
  ``POST /session/rotate``, send a ``no-cors`` ``fetch`` and try a
  credentialed JSON ``PATCH`` (which needs a CORS preflight): the forms get
  403 ``forbidden_origin``, the preflighted request is never sent, the
  server counts each refusal, and the session is untouched (same cookie,
  same version, same data);
- submits a same-origin ``text/plain`` form, which the content-type rule
  refuses (415);
- rotates (new cookie, old id dead), logs out (``DELETE /session``: the
  browser drops the cookie, ``GET /session`` is 404);
- and, for expiry, logs in again, has the session's idle timeout cut to 1 s
  over gRPC (``Touch``, the only clock sessiond offers from outside), waits
  1.3 s, and writes: the gateway does not take the expired id, creates a
  new session and the browser holds its new cookie, without the old data.

Exits non-zero on the first failed check; ``--json`` writes what ran.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import sessiond
from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

sys.path.insert(0, str(Path(__file__).parent))
from server import Sessiond

COOKIE = "sessionid"
IDLE_SECONDS = 14 * 24 * 3600


class Failed(AssertionError):
    pass


def check(condition: bool, what: str) -> None:
    if not condition:
        raise Failed(what)


def make_certificate(directory: Path) -> tuple[Path, Path, str]:
    """A self-signed certificate for 127.0.0.1 and localhost: (cert, key,
    the base64 SHA-256 of its SubjectPublicKeyInfo, as Chromium's
    --ignore-certificate-errors-spki-list takes it)."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            *["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
            *["-nodes", "-days", "2", "-subj", "/CN=127.0.0.1", "-keyout", str(key)],
            *["-out", str(cert), "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        ],
        check=True,
        capture_output=True,
    )
    spki = subprocess.run(
        ["openssl", "x509", "-in", str(cert), "-noout", "-pubkey"],
        check=True,
        capture_output=True,
    ).stdout
    der = subprocess.run(
        ["openssl", "pkey", "-pubin", "-outform", "der"],
        input=spki,
        check=True,
        capture_output=True,
    ).stdout
    return cert, key, base64.b64encode(hashlib.sha256(der).digest()).decode()


class Attacker:
    """Pages of another origin: ``/form?...`` auto-submits a form to the
    gateway, ``/blank`` is a page to run scripts from."""

    def __init__(self) -> None:
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path, _, query = self.path.partition("?")
                params = dict(p.split("=", 1) for p in query.split("&") if "=" in p)
                if path == "/form":
                    action = urllib.request.unquote(params["action"])
                    enctype = urllib.request.unquote(params["enctype"])
                    page = (
                        f'<form id="f" method="POST" action="{action}" enctype="{enctype}">'
                        '<input type="hidden" name=\'{"user":"mallory","x":"\' value=\'"}\'>'
                        '</form><script>document.getElementById("f").submit()</script>'
                    )
                else:
                    page = "<title>attacker</title><p>another origin</p>"
                body = page.encode()
                self.send_response(200)
                self.send_header("content-type", "text/html")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def browser(spki: str) -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-extensions",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        # Trust exactly the test's certificate (by its key), nothing more.
        f"--ignore-certificate-errors-spki-list={spki}",
    ]:
        options.add_argument(flag)
    driver = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    # The Debian chromedriver, named: Selenium Manager never downloads one.
    return webdriver.Chrome(service=Service(executable_path=driver), options=options)


FETCH = """
const [url, init, done] = arguments;
fetch(url, init).then(
  async r => done({status: r.status, type: r.type, body: await r.text(),
                   setCookie: r.headers.get('set-cookie')}),
  e => done({error: String(e)}));
"""


def fetch(driver: webdriver.Chrome, url: str, method: str = "GET", **init: Any) -> dict:
    """``fetch`` run in the current page; its status, type and body."""
    init = {"method": method, "credentials": "include", **init}
    return driver.execute_async_script(FETCH, url, init)


def json_fetch(driver: webdriver.Chrome, url: str, method: str, body: Any = None) -> dict:
    init: dict[str, Any] = {"headers": {"content-type": "application/json"}}
    if body is not None:
        init["body"] = json.dumps(body)
    return fetch(driver, url, method, **init)


def session_cookie(driver: webdriver.Chrome) -> dict | None:
    """The session cookie as the browser holds it (CDP: every attribute)."""
    cookies = driver.execute_cdp_cmd("Network.getAllCookies", {})["cookies"]
    found = [c for c in cookies if c["name"] == COOKIE]
    check(len(found) <= 1, f"one session cookie, not {found}")
    return found[0] if found else None


def http_refusals(server: Sessiond) -> dict[str, int]:
    """The gateway's answers so far, by status, from /metrics."""
    status, text = server.admin("/metrics")
    check(status == 200, "metrics")
    counts: dict[str, int] = {}
    pattern = r'^sessiond_requests_total\{api="http",method="[^"]*",outcome="([^"]+)"\} (\d+)'
    for outcome, n in re.findall(pattern, text, re.M):
        counts[outcome] = counts.get(outcome, 0) + int(n)
    return counts


def page_json(driver: webdriver.Chrome) -> dict:
    """The JSON document the browser navigated to (Chromium shows it as text)."""
    text = driver.find_element(By.TAG_NAME, "body").text
    return json.loads(text)


def wait_for_url(driver: webdriver.Chrome, prefix: str) -> None:
    try:
        WebDriverWait(driver, 10).until(lambda d: d.current_url.startswith(prefix))
    except TimeoutException:
        raise Failed(f"the form did not reach {prefix}: at {driver.current_url}") from None


def run_mode(
    driver: webdriver.Chrome,
    binary: str,
    tls: bool,
    cert: Path,
    key: Path,
    attacker: Attacker,
) -> list[str]:
    """Every check of one mode; the names of those that passed."""
    passed: list[str] = []
    args = ["--min-idle-timeout", "1s"]
    args += (
        ["--tls-cert", str(cert), "--tls-key", str(key)] if tls else ["--cookie-secure", "false"]
    )
    server = Sessiond(binary, args)
    scheme = "https" if tls else "http"
    origin = f"{scheme}://{server.http_addr}"
    try:
        driver.delete_all_cookies()
        driver.execute_cdp_cmd("Network.clearBrowserCookies", {})
        # A page of the gateway's own origin to run scripts from (a 404).
        driver.get(f"{origin}/session")
        check(page_json(driver)["error"] == "session_not_found", "no session yet")

        # Log in: the cookie as configured, out of the scripts' reach.
        created = json_fetch(driver, f"{origin}/session", "POST", {"user": "yuan"})
        check(created.get("status") == 201, f"POST /session: {created}")
        check(created["setCookie"] is None, "Set-Cookie is not readable by scripts")
        cookie = session_cookie(driver)
        check(cookie is not None, "the browser keeps the session cookie")
        assert cookie is not None
        check(cookie["httpOnly"] is True, f"HttpOnly: {cookie}")
        check(cookie["secure"] is tls, f"Secure exactly over TLS: {cookie}")
        check(cookie["sameSite"] == "Lax", f"SameSite=Lax: {cookie}")
        check(cookie["path"] == "/", f"Path=/: {cookie}")
        check(cookie["domain"] == "127.0.0.1", f"host-only, no Domain: {cookie}")
        check(cookie["session"] is False, f"a persistent cookie: {cookie}")
        lifetime = cookie["expires"] - time.time()
        check(abs(lifetime - IDLE_SECONDS) < 120, f"Max-Age = the idle timeout: {lifetime}")
        check(re.fullmatch(r"[a-z0-9]{32}", cookie["value"]) is not None, "a 32-char id")
        passed.append("cookie attributes")
        check(driver.execute_script("return document.cookie") == "", "document.cookie is empty")
        driver.execute_script(f"document.cookie = '{COOKIE}=forged; path=/'")
        check(session_cookie(driver)["value"] == cookie["value"], "a script cannot replace it")
        check(driver.execute_script("return document.cookie") == "", "nor see it")
        passed.append("invisible to document.cookie")
        before = json.loads(fetch(driver, f"{origin}/session")["body"])
        check(before["data"] == {"user": "yuan"}, f"GET /session: {before}")

        # CSRF, from two other loopback origins.
        refused_before = http_refusals(server)
        forms = 0
        for host in ["127.0.0.1", "localhost"]:
            other = f"http://{host}:{attacker.port}"
            for path, enctype in [
                ("/session", "text/plain"),
                ("/session", "application/x-www-form-urlencoded"),
                ("/session/rotate", "text/plain"),
            ]:
                action = urllib.request.quote(f"{origin}{path}", safe="")
                driver.get(f"{other}/form?action={action}&enctype={enctype}")
                wait_for_url(driver, f"{origin}{path}")
                answer = page_json(driver)
                check(answer["error"] == "forbidden_origin", f"{host} form {path}: {answer}")
                forms += 1
            driver.get(f"{other}/blank")
            blind = fetch(
                driver,
                f"{origin}/session",
                "POST",
                mode="no-cors",
                headers={"content-type": "text/plain"},
                body='{"user":"mallory"}',
            )
            check(blind.get("type") == "opaque", f"a no-cors fetch is opaque: {blind}")
            preflighted = json_fetch(driver, f"{origin}/session", "PATCH", {"user": "mallory"})
            check("error" in preflighted, f"no CORS preflight is granted: {preflighted}")
        refused = http_refusals(server)
        forbidden = refused.get("403", 0) - refused_before.get("403", 0)
        # Each form, and each no-cors fetch, reached sessiond and was refused.
        check(forbidden == forms + 2, f"403s counted: {forbidden}, sent {forms + 2}")
        for outcome, n in refused.items():
            if outcome.startswith("2"):
                check(n == refused_before.get(outcome, 0), f"an attack succeeded: {refused}")
        driver.get(f"{origin}/session")
        after = page_json(driver)
        check(session_cookie(driver)["value"] == cookie["value"], "the same cookie")
        # (Only its deadline moved: each read is activity.)
        untouched = [after[k] == before[k] for k in ("data", "version")]
        check(all(untouched), f"the session untouched: {after} vs {before}")
        passed.append(f"cross-site refused ({forms} forms, 2 no-cors, 2 preflighted)")

        # A same-origin HTML form: past Origin, refused by the content type.
        driver.execute_script(
            "const f = document.createElement('form'); f.method = 'POST';"
            "f.action = '/session'; f.enctype = 'text/plain';"
            "const i = document.createElement('input'); i.name = 'a'; i.value = 'b';"
            "f.appendChild(i); document.body.appendChild(f); f.submit();"
        )
        WebDriverWait(driver, 10).until(lambda d: "unsupported_media_type" in d.page_source)
        check(page_json(driver)["error"] == "unsupported_media_type", "415 for a form")
        check(session_cookie(driver)["value"] == cookie["value"], "still the same cookie")
        passed.append("same-origin form refused (415)")

        # Rotate: a new cookie, the old id dead.
        rotated = json_fetch(driver, f"{origin}/session/rotate", "POST")
        check(rotated.get("status") == 204, f"rotate: {rotated}")
        new = session_cookie(driver)
        check(new is not None and new["value"] != cookie["value"], "rotate sets a new cookie")
        assert new is not None
        check(new["httpOnly"] and new["secure"] is tls and new["sameSite"] == "Lax", f"{new}")
        old = direct(server, tls, cert, cookie["value"])
        check(old == 404, f"the old id is dead: {old}")
        passed.append("rotate")

        # Log out: the browser drops the cookie.
        out = json_fetch(driver, f"{origin}/session", "DELETE")
        check(out.get("status") == 204, f"DELETE /session: {out}")
        check(session_cookie(driver) is None, "logout clears the cookie in the browser")
        gone = fetch(driver, f"{origin}/session")
        check(gone.get("status") == 404, f"GET after logout: {gone}")
        check(direct(server, tls, cert, new["value"]) == 404, "the session is flushed")
        passed.append("logout clears the cookie")

        # Expiry: the browser still holds a cookie for a session that
        # expired; the gateway starts a new one.
        again = json_fetch(driver, f"{origin}/session", "PATCH", {"user": "yuan", "cart": [1]})
        check(again.get("status") == 201, f"PATCH creates: {again}")
        first = session_cookie(driver)
        assert first is not None
        client_args: dict[str, Any] = {"timeout": 10}
        if tls:
            client_args.update(tls_ca=str(cert), tls_server_name="127.0.0.1")
        with sessiond.Client(server.grpc_addr, **client_args) as client:
            client.touch(first["value"], idle_timeout=1)
        time.sleep(1.3)
        check(session_cookie(driver)["value"] == first["value"], "the browser kept the cookie")
        fresh = json_fetch(driver, f"{origin}/session", "PATCH", {"theme": "dark"})
        check(fresh.get("status") == 201, f"an expired session gives a new one: {fresh}")
        second = session_cookie(driver)
        check(second is not None and second["value"] != first["value"], "a new cookie")
        data = json.loads(fetch(driver, f"{origin}/session")["body"])["data"]
        check(data == {"theme": "dark"}, f"none of the expired session's data: {data}")
        passed.append("expired session gives a new one")
        return passed
    finally:
        server.stop()


def direct(server: Sessiond, tls: bool, cert: Path, session_id: str) -> int:
    """``GET /session`` with this id, from outside the browser: the status."""
    import ssl

    scheme = "https" if tls else "http"
    context = ssl.create_default_context(cafile=str(cert)) if tls else None
    request = urllib.request.Request(
        f"{scheme}://{server.http_addr}/session", headers={"cookie": f"{COOKIE}={session_id}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=5, context=context) as response:
            return response.status
    except urllib.error.HTTPError as err:
        return err.code


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bin", required=True, help="the sessiond binary")
    parser.add_argument("--json", help="write the outcome here")
    args = parser.parse_args()
    os.environ.setdefault("SE_AVOID_STATS", "true")
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as scratch:
        cert, key, spki = make_certificate(Path(scratch))
        attacker = Attacker()
        driver = browser(spki)
        version = driver.capabilities.get("browserVersion", "?")
        outcome: dict[str, Any] = {"chromium": version, "modes": {}}
        try:
            for tls in (True, False):
                mode = "TLS" if tls else "plain HTTP"
                passed = run_mode(driver, args.bin, tls, cert, key, attacker)
                outcome["modes"][mode] = passed
                print(f"{mode}: {len(passed)} checks passed: {'; '.join(passed)}")
        finally:
            driver.quit()
            attacker.close()
    outcome["seconds"] = round(time.monotonic() - started, 1)
    print(f"Chromium {version}, both modes passed in {outcome['seconds']} s")
    if args.json:
        Path(args.json).write_text(json.dumps(outcome, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Failed as failure:
        print(f"browser test FAILED: {failure}", file=sys.stderr)
        sys.exit(1)
