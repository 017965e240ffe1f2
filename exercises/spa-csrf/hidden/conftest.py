"""Fixtures of the hidden spa-csrf checks: the judge plays a browser.

The API is https://api.example.test behind a TLS proxy: every request goes
to the candidate's gunicorn with ``Host: api.example.test`` and
``X-Forwarded-Proto: https`` (the starter's settings trust that header).

A ``Browser`` is one victim's browser: one cookie jar for the API's host,
filled from every Set-Cookie the API answers (all of them: the judge's App
client keeps only the last header of a name, so this module talks
http.client itself). Which cookies a request carries follows the SameSite
rules of today's browsers, by who starts the request:

  * the SPA (https://app.example.test) and a sibling subdomain of
    example.test are the API's *site*: every cookie is sent;
  * a cross-site page gets cookies without SameSite or SameSite=None on
    every request, Lax ones on a top-level GET navigation only, Strict
    ones never;
  * a "legacy" browser ignores SameSite (and sends no Origin on a form
    post), as browsers before 2019-2020 did.

Every request carries Firefox's User-Agent and keep-alive, and all but a
legacy browser's carry Fetch Metadata (Sec-Fetch-Site, -Mode, -Dest), so an
app cannot tell the judge from a browser by their absence.

Hostile origins are drawn per run: a cross-site origin, a look-alike one
that starts with the SPA's origin, a sibling subdomain of example.test,
and ``null`` (a page with no-referrer or a sandboxed frame). The prompt
names only the SPA's origin.

For CORS the judge reads the headers as the Fetch standard has a browser
do: a page may read a credentialed answer only if Access-Control-Allow-
Origin is exactly its origin and Access-Control-Allow-Credentials is
"true"; a preflight must also list the method and every requested header
(``*`` does not count with credentials).
"""

import http.client
import json
import string
import threading
import time
from http.cookies import CookieError, SimpleCookie
from types import SimpleNamespace
from urllib.parse import urlencode

import pytest
from djgrade_judge import AppError, freeze_schema

from notes.models import Note

API_HOST = "api.example.test"
SPA_ORIGIN = "https://app.example.test"
APP_ADDR = ("127.0.0.1", 8000)
TIMEOUT = 30.0
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
SAFE = ("GET", "HEAD", "OPTIONS")
REFUSED_MIN, REFUSED_MAX = 400, 499


@pytest.fixture(scope="session", autouse=True)
def served(candidate, django_db_blocker):
    result = candidate.manage("migrate", "--noinput")
    assert result.ok, "migrate failed in the candidate's project:\n%s" % result.output
    with django_db_blocker.unblock():
        freeze_schema()
    candidate.serve()
    return candidate


class Answer:
    def __init__(self, method, path, status, headers, set_cookies, body):
        self.method, self.path, self.status = method, path, status
        self.headers, self.set_cookies, self.body = headers, set_cookies, body

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError:
            raise AppError("%s %s answered %d with a body that is not JSON: %r"
                           % (self.method, self.path, self.status, self.body[:200])) from None

    def short(self):
        text = " ".join(self.body[:300].decode("utf-8", "replace").split())
        return "%d %s" % (self.status, ("with body %r" % text[:200]) if text else "with an empty body")

    def __repr__(self):
        return "<answer to %s %s: %d>" % (self.method, self.path, self.status)


def raw(method, path, headers, body=None):
    """One request to the candidate's server, every Set-Cookie kept."""
    hdrs = {"Host": API_HOST, "X-Forwarded-Proto": "https", "User-Agent": FIREFOX, "Connection": "keep-alive"}
    hdrs.update(headers)
    if body is not None and not isinstance(body, bytes):
        body = body.encode()
    conn = http.client.HTTPConnection(*APP_ADDR, timeout=TIMEOUT)
    try:
        conn.request(method, path, body=body, headers=hdrs)
        resp = conn.getresponse()
        data = resp.read(4 << 20)
        headers_out = {}
        for k, v in resp.getheaders():
            headers_out[k.lower()] = v
        cookies = resp.msg.get_all("Set-Cookie") or []
        return Answer(method, path, resp.status, headers_out, cookies, data)
    except (OSError, http.client.HTTPException) as e:
        raise AppError("%s %s: no complete answer (%s: %s)" % (method, path, type(e).__name__, e)) from None
    finally:
        conn.close()


def parse_set_cookie(header):
    """(name, value, attrs) of one Set-Cookie header; attrs lowercased names."""
    first, _, rest = header.partition(";")
    name, _, value = first.partition("=")
    attrs = {}
    for part in rest.split(";"):
        k, _, v = part.strip().partition("=")
        if k:
            attrs[k.strip().lower()] = v.strip()
    return name.strip(), value.strip().strip('"'), attrs


class Browser:
    """One victim's browser: a cookie jar for https://api.example.test."""

    def __init__(self):
        self.jar = {}  # name -> (value, samesite or None, path)
        self.lock = threading.Lock()
        self.seen_cookies = []  # every Set-Cookie header that set (not deleted) a cookie

    def store(self, answer):
        for header in answer.set_cookies:
            name, value, attrs = parse_set_cookie(header)
            expired = attrs.get("max-age") == "0" or "1970" in attrs.get("expires", "")
            if expired or value == "":
                self.jar.pop(name, None)
                continue
            self.seen_cookies.append(header)
            samesite = attrs.get("samesite", "").lower() or None
            self.jar[name] = (value, samesite, attrs.get("path") or "/")

    def cookie_header(self, path, who, navigation, method, jar=None):
        jar = self.jar if jar is None else jar
        out = []
        for name, (value, samesite, cpath) in jar.items():
            if not path.startswith(cpath.rstrip("/") + "/") and path != cpath:
                continue
            if who in ("spa", "sibling", "legacy"):
                send = True
            elif samesite in (None, "none"):
                send = True
            elif samesite == "lax":
                send = navigation and method == "GET"
            else:
                send = False
            if send:
                out.append("%s=%s" % (name, value))
        return "; ".join(out)

    def send(self, method, path, who, origin=None, referer=None, navigation=False, headers=None, body=None,
             jar=None, keep_cookies=True):
        """A request the browser sends for a page of `who` (spa, sibling, cross, legacy)."""
        hdrs = fetch_metadata(method, who, origin, navigation)
        if origin is not None:
            hdrs["Origin"] = origin
        if referer is not None:
            hdrs["Referer"] = referer
        cookies = self.cookie_header(path, who, navigation, method, jar)
        if cookies:
            hdrs["Cookie"] = cookies
        hdrs.update(headers or {})
        answer = raw(method, path, hdrs, body)
        if keep_cookies:
            self.store(answer)
        return answer


def fetch_metadata(method, who, origin, navigation):
    """The Sec-Fetch-* headers Firefox sends with this request (none for a legacy browser).

    The SPA and the sibling subdomains are same-site with the API (one
    registrable domain, example.test), whatever Origin they send; the other
    hostile pages are cross-site.
    """
    if who == "legacy":
        return {}
    if origin == "null":
        same = False  # an opaque origin is same-site with nothing
    elif who == "preflight":
        host = (origin or "").partition("://")[2]
        same = host == "example.test" or host.endswith(".example.test")
    else:
        same = who in ("spa", "sibling")
    if navigation:
        mode, dest = "navigate", "document"
    elif method == "OPTIONS" or origin is not None:
        mode, dest = "cors", "empty"
    else:
        mode, dest = "no-cors", "image"
    return {"Sec-Fetch-Site": "same-site" if same else "cross-site", "Sec-Fetch-Mode": mode, "Sec-Fetch-Dest": dest,
            "Accept-Language": "en-US,en;q=0.5"}


def _list_has(value, item):
    return item.lower() in [v.strip().lower() for v in (value or "").split(",")]


def read_allowed(answer, origin):
    """Why a page of origin may not read this credentialed answer, or None if it may."""
    acao = answer.headers.get("access-control-allow-origin")
    if acao != origin:
        return "Access-Control-Allow-Origin is %s, not %s" % (repr(acao) if acao else "missing", origin)
    acac = answer.headers.get("access-control-allow-credentials")
    if acac != "true":
        return "Access-Control-Allow-Credentials is %s, not \"true\"" % (repr(acac) if acac else "missing")
    return None


def preflight_refusal(answer, origin, method, req_headers):
    """Why a browser would not send the request after this preflight, or None if it would."""
    if not 200 <= answer.status <= 299:
        return "the preflight answered %d" % answer.status
    why = read_allowed(answer, origin)
    if why:
        return why
    if method not in ("GET", "HEAD", "POST") and method not in [
            m.strip() for m in answer.headers.get("access-control-allow-methods", "").split(",")]:
        return "Access-Control-Allow-Methods (%r) does not list %s" % (
            answer.headers.get("access-control-allow-methods"), method)
    for h in req_headers:
        if not _list_has(answer.headers.get("access-control-allow-headers"), h):
            return "Access-Control-Allow-Headers (%r) does not list %s" % (
                answer.headers.get("access-control-allow-headers"), h)
    return None


def preflight(browser, origin, method, path, req_headers):
    return browser.send("OPTIONS", path, "preflight", origin=origin, headers={
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": ",".join(sorted(req_headers)),
        "Accept": "*/*",
    }, jar={}, keep_cookies=False)


class SpaClient:
    """The single-page app, running in the victim's browser, as spa/api.js does."""

    def __init__(self, browser, strict=True):
        self.browser = browser
        self.token = None
        # strict: the check is about the SPA working, so a browser's CORS
        # refusal fails it; setup of a security check sends the requests
        # anyway (the point there is the attack, not the CORS of the SPA).
        self.strict = strict

    def fetch(self, method, path, body=None, token=True):
        headers = {"Accept": "application/json"}
        req_headers = []
        if body is not None:
            headers["Content-Type"] = "application/json"
            req_headers.append("content-type")
        if method not in SAFE and token:
            headers["X-CSRFToken"] = self.token or ""
            req_headers.append("x-csrftoken")
        if self.strict and (req_headers or method not in ("GET", "HEAD", "POST")):
            pre = preflight(self.browser, SPA_ORIGIN, method, path, req_headers)
            why = preflight_refusal(pre, SPA_ORIGIN, method, req_headers)
            assert why is None, (
                "the SPA's %s %s needs a CORS preflight, and a browser would not send the request: %s "
                "(preflight OPTIONS %s from %s asking for %s with headers %s answered %s)"
                % (method, path, why, path, SPA_ORIGIN, method, ",".join(req_headers), pre.short()))
        answer = self.browser.send(method, path, "spa", origin=SPA_ORIGIN, referer=SPA_ORIGIN + "/notes", headers=headers,
                                   body=None if body is None else json.dumps(body))
        if self.strict:
            why = read_allowed(answer, SPA_ORIGIN)
            assert why is None, ("the SPA's %s %s answered %s, but a browser would not let the SPA read it: %s"
                                 % (method, path, answer.short(), why))
        return answer

    def refresh_token(self):
        answer = self.fetch("GET", "/api/csrf/")
        assert answer.status == 200, "the SPA's GET /api/csrf/ answered %s, expected 200" % answer.short()
        body = answer.json()
        assert isinstance(body, dict) and isinstance(body.get("csrfToken"), str) and body["csrfToken"], (
            "GET /api/csrf/ answered %r, expected {\"csrfToken\": \"<token>\"}" % answer.body[:200])
        self.token = body["csrfToken"]
        return answer

    def log_in(self, user):
        self.refresh_token()
        answer = self.fetch("POST", "/api/auth/login/", {"username": user.username, "password": user.raw_password})
        assert answer.status == 200, (
            "the SPA's POST /api/auth/login/ (with the token from /api/csrf/ in X-CSRFToken) answered %s, "
            "expected 200" % answer.short())
        self.refresh_token()
        return answer

    def who(self):
        """The username the API says this browser is signed in as, or None."""
        answer = self.fetch("GET", "/api/auth/me/")
        if answer.status == 200:
            return answer.json().get("username")
        return None


def _word(rng, n=6):
    return "".join(rng.choice(string.ascii_lowercase) for _ in range(n))


class Hostile:
    """Origins of pages the victim may visit, drawn per run."""

    def __init__(self, rng):
        tld = rng.choice(["net", "org", "io", "com"])
        self.cross = "https://%s-%s.%s" % (_word(rng), _word(rng, 4), tld)
        self.lookalike = "%s.%s.%s" % (SPA_ORIGIN, _word(rng, 5), rng.choice(["net", "org", "io"]))
        self.sibling = "https://%s.example.test" % rng.choice(
            ["blog", "status", "promo", "help", "pages", "u-" + _word(rng, 5)])

    def pages(self):
        """(who, origin) of the hostile pages that can send requests with an Origin."""
        return [("cross", self.cross), ("cross", self.lookalike), ("sibling", self.sibling)]


def state():
    """Every note, read fresh from the database."""
    return list(Note.objects.order_by("pk").values_list("pk", "owner_id", "title", "body", "is_archived"))


class World:
    """A victim signed in through the SPA, with notes, and hostile pages."""

    def __init__(self, make_user, rng, sign_in=True):
        self.rng = rng
        tag = "%04d" % rng.randrange(10000)
        self.victim = make_user("vera" + tag)
        self.attacker = make_user("mallory" + tag)
        self.notes = [Note.objects.create(owner=self.victim, title="Vera's %s %s" % (_word(rng), tag),
                                          body="VERA-" + _word(rng, 12)) for _ in range(rng.randrange(2, 4))]
        Note.objects.create(owner=self.attacker, title="Mallory's " + tag, body="x")
        self.note = self.notes[0]
        self.hostile = Hostile(rng)
        self.browser = Browser()
        self.spa = SpaClient(self.browser, strict=False)
        if sign_in:
            self.spa.log_in(self.victim)
            assert self.spa.who() == self.victim.username, (
                "setup: after signing in through the SPA, GET /api/auth/me/ does not name the user")

    def refused(self, answer, what):
        assert REFUSED_MIN <= answer.status <= REFUSED_MAX, (
            "%s answered %s, expected it to be refused (4xx)" % (what, answer.short()))

    def unchanged(self, before, what):
        after = state()
        assert after == before, "%s changed the notes in the database:\nbefore %r\nafter  %r" % (what, before, after)

    def still_signed_in(self, what):
        who = self.spa.who()
        assert who == self.victim.username, (
            "after %s the victim's browser is %s, expected still signed in as %s"
            % (what, "signed out" if who is None else "signed in as %s" % who, self.victim.username))


@pytest.fixture
def world(make_user, rng):
    return World(make_user, rng)


@pytest.fixture
def h():
    return SimpleNamespace(SPA=SPA_ORIGIN, SAFE=SAFE, Browser=Browser, SPA_cls=SpaClient, Hostile=Hostile, World=World,
                           state=state, preflight=preflight, preflight_refusal=preflight_refusal,
                           read_allowed=read_allowed, parse_set_cookie=parse_set_cookie, word=_word,
                           urlencode=urlencode)
