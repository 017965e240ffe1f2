"""Hidden checks: the SPA on https://app.example.test works, and no other page can act for its users.

The judge plays the victim's browser (see conftest): the SPA's requests go
through CORS preflights as a browser's would; hostile pages send what a
browser lets them send, with the cookies a browser would attach.
"""

import json

import pytest

SPA_ORIGIN = "https://app.example.test"

from notes.models import Note


# What Firefox sends for a page (a form's or a link's navigation) and for an <img>.
PAGE_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
IMAGE_ACCEPT = "image/avif,image/webp,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5"
FORM = {"Content-Type": "application/x-www-form-urlencoded", "Accept": PAGE_ACCEPT}


# Correctness: the SPA works.

@pytest.mark.check("spa-sign-in")
def test_spa_signs_in_and_out(make_user, h, rng):
    w = h.World(make_user, rng, sign_in=False)
    spa = h.SPA_cls(w.browser, strict=True)
    spa.refresh_token()
    assert spa.who() is None, "before signing in, GET /api/auth/me/ named a user"
    wrong = spa.fetch("POST", "/api/auth/login/", {"username": w.victim.username, "password": "not-it"})
    assert wrong.status in (400, 401, 403), "a login with a wrong password answered %s, expected 400" % wrong.short()
    assert spa.who() is None, "a login with a wrong password signed the browser in"
    spa.log_in(w.victim)
    assert spa.who() == w.victim.username, (
        "after the SPA's login GET /api/auth/me/ does not answer 200 with the user's name")
    out = spa.fetch("POST", "/api/auth/logout/")
    assert out.status in (200, 204), "the SPA's POST /api/auth/logout/ answered %s, expected 204" % out.short()
    spa.refresh_token()
    assert spa.who() is None, "after the SPA's logout GET /api/auth/me/ still names a user"
    # And in again, with the token fetched after the logout.
    spa.log_in(w.victim)
    assert spa.who() == w.victim.username, "signing in again after a logout did not work"


@pytest.mark.check("spa-notes")
def test_spa_works_with_notes(make_user, h, rng):
    w = h.World(make_user, rng, sign_in=False)
    spa = h.SPA_cls(w.browser, strict=True)
    spa.log_in(w.victim)
    listed = spa.fetch("GET", "/api/notes/")
    assert listed.status == 200, "the SPA's GET /api/notes/ answered %s, expected 200" % listed.short()
    body = listed.json()
    if isinstance(body, dict) and "results" in body:
        body = body["results"]
    ids = sorted(n["id"] for n in body)
    want = sorted(n.pk for n in w.notes)
    assert ids == want, "the SPA's GET /api/notes/ listed notes %s, expected the user's %s" % (ids, want)

    title = "Plan " + h.word(rng)
    made = spa.fetch("POST", "/api/notes/", {"title": title, "body": "b"})
    assert made.status == 201, "the SPA's POST /api/notes/ answered %s, expected 201" % made.short()
    note = Note.objects.filter(title=title).first()
    assert note is not None and note.owner_id == w.victim.pk, "the SPA's new note is not in the database as the user's"

    changed = spa.fetch("PATCH", "/api/notes/%d/" % note.pk, {"body": "edited"})
    assert changed.status == 200, "the SPA's PATCH answered %s, expected 200" % changed.short()
    assert Note.objects.get(pk=note.pk).body == "edited", "the SPA's PATCH answered 200 but the note is unchanged"

    archived = spa.fetch("POST", "/api/notes/%d/archive/" % note.pk)
    assert archived.status == 200, "the SPA's POST archive/ answered %s, expected 200" % archived.short()
    assert Note.objects.get(pk=note.pk).is_archived, "the SPA's archive answered 200 but the note is not archived"

    gone = spa.fetch("DELETE", "/api/notes/%d/" % note.pk)
    assert gone.status == 204, "the SPA's DELETE answered %s, expected 204" % gone.short()
    assert not Note.objects.filter(pk=note.pk).exists(), "the SPA's DELETE answered 204 but the note is still there"


# Security.

def _form_posts(w):
    pk = w.note.pk
    return [
        ("/api/notes/", {"title": "CSRF " + h_word(w), "body": "forged"}),
        ("/api/notes/%d/archive/" % pk, {}),
    ]


def h_word(w):
    return "".join(w.rng.choice("abcdefghij") for _ in range(6))


@pytest.mark.check("form-post-refused")
def test_cross_site_form_posts_refused(world, h):
    w = world
    pages = [(who, origin, origin + "/win-a-prize") for who, origin in w.hostile.pages()]
    # A no-referrer page on the sibling (or a sandboxed frame): Origin null, no Referer.
    pages.append(("sibling", "null", None))
    # A browser that ignores SameSite and sends no Origin on a form post.
    pages.append(("legacy", None, w.hostile.cross + "/win-a-prize"))
    for who, origin, referer in pages:
        for path, fields in _form_posts(w):
            before = h.state()
            where = {None: "a page of %s (sent without Origin)" % w.hostile.cross,
                     "null": "a no-referrer page (Origin null)"}.get(origin, origin)
            what = "a form on %s (%s) posting to %s" % (where, who, path)
            answer = w.browser.send("POST", path, who, origin=origin, referer=referer, navigation=True,
                                    headers=FORM, body=h.urlencode(fields))
            w.refused(answer, what)
            w.unchanged(before, what)
    # Last: a form that signs the victim out.
    for who, origin in w.hostile.pages():
        answer = w.browser.send("POST", "/api/auth/logout/", who, origin=origin, referer=origin + "/",
                                navigation=True, headers=FORM, body="")
        w.still_signed_in("a form on %s (%s) posting to /api/auth/logout/ (answered %d)" % (origin, who, answer.status))


def _fetches(w):
    pk, other = w.notes[0].pk, w.notes[1].pk
    js = {"Content-Type": "application/json", "Accept": "application/json"}
    return [
        ("POST", "/api/notes/", js, json.dumps({"title": "CSRF", "body": "forged"})),
        ("POST", "/api/notes/", {"Content-Type": "text/plain", "Accept": "*/*"}, json.dumps({"title": "CSRF", "body": "forged"})),
        ("PATCH", "/api/notes/%d/" % pk, js, json.dumps({"body": "forged"})),
        ("PUT", "/api/notes/%d/" % pk, js, json.dumps({"title": "forged", "body": "forged"})),
        ("POST", "/api/notes/%d/archive/" % pk, js, None),
        ("DELETE", "/api/notes/%d/" % other, js, None),
    ]


@pytest.mark.check("fetch-without-token-refused")
def test_cross_origin_fetch_without_token_refused(world, h):
    w = world
    pages = w.hostile.pages() + [("legacy", w.hostile.cross), ("sibling", "null")]
    for who, origin in pages:
        for method, path, headers, body in _fetches(w):
            before = h.state()
            where = "a no-referrer page (Origin null)" if origin == "null" else origin
            what = "a credentialed fetch %s %s from %s (%s) without the token" % (method, path, where, who)
            # Sent whatever CORS says: a simple request needs no preflight, and
            # the check is about the server's own refusal.
            answer = w.browser.send(method, path, who, origin=origin, referer=None if origin == "null" else origin + "/",
                                    headers=headers, body=body)
            w.refused(answer, what)
            w.unchanged(before, what)
    w.still_signed_in("the hostile fetches")


@pytest.mark.check("token-required")
def test_spa_origin_without_valid_token_refused(world, h):
    """Origin and Referer are the SPA's, the session is the victim's, the token is missing or wrong."""
    w = world
    fake = "".join(w.rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") for _ in range(32))
    for token, label in ((None, "without a token"), (fake, "with a made-up token")):
        for method, path, headers, body in _fetches(w):
            hdrs = dict(headers)
            if token:
                hdrs["X-CSRFToken"] = token
            before = h.state()
            what = "%s %s from the SPA's origin %s" % (method, path, label)
            answer = w.browser.send(method, path, "spa", origin=h.SPA, referer=h.SPA + "/notes", headers=hdrs, body=body)
            w.refused(answer, what)
            w.unchanged(before, what)
        answer = w.browser.send("POST", "/api/auth/logout/", "spa", origin=h.SPA, referer=h.SPA + "/notes",
                                headers={"X-CSRFToken": token} if token else {})
        w.still_signed_in("POST /api/auth/logout/ from the SPA's origin %s (answered %d)" % (label, answer.status))
        creds = json.dumps({"username": w.attacker.username, "password": w.attacker.raw_password})
        hdrs = {"Content-Type": "application/json", "Accept": "application/json"}
        if token:
            hdrs["X-CSRFToken"] = token
        answer = w.browser.send("POST", "/api/auth/login/", "spa", origin=h.SPA, referer=h.SPA + "/notes",
                                headers=hdrs, body=creds)
        w.still_signed_in("POST /api/auth/login/ (another user's credentials) from the SPA's origin %s (answered %d)"
                          % (label, answer.status))


@pytest.mark.check("untrusted-origin-refused")
def test_token_from_another_origin_refused(world, h):
    """A valid token does not make another origin trusted: it leaked, or a sibling planted the cookie."""
    w = world
    leaked = w.spa.token
    sib = w.hostile.sibling
    js = {"Content-Type": "application/json", "Accept": "application/json"}
    attempts = []
    for who, origin in ((("sibling", sib)), ("legacy", w.hostile.lookalike)):
        attempts.append(("a fetch from %s (%s) with the victim's leaked token" % (origin, who), who, origin,
                         dict(js, **{"X-CSRFToken": leaked}), json.dumps({"title": "CSRF", "body": "leaked"}), None))
        attempts.append(("a form on %s (%s) with the victim's leaked token" % (origin, who), who, origin, FORM,
                         h.urlencode({"title": "CSRF", "body": "leaked", "csrfmiddlewaretoken": leaked}), None))
    # A sandboxed iframe or a no-referrer redirect on a hostile page: Origin null.
    attempts.append(("a fetch with Origin null (a sandboxed page) with the victim's leaked token", "sibling", "null",
                     dict(js, **{"X-CSRFToken": leaked}), json.dumps({"title": "CSRF", "body": "leaked"}), None))
    attempts.append(("a form with Origin null (a sandboxed page) with the victim's leaked token", "legacy", "null", FORM,
                     h.urlencode({"title": "CSRF", "body": "leaked", "csrfmiddlewaretoken": leaked}), None))
    # Cookie tossing: a page on a sibling subdomain sets a CSRF cookie of its
    # own choosing for .example.test and posts the matching token.
    planted = "".join(w.rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(32))
    jar = dict(w.browser.jar)
    names = [n for n in jar if "csrf" in n.lower()] or ["csrftoken"]
    for n in names:
        jar[n] = (planted, "lax", "/")
    attempts.append(("a form on %s with a CSRF cookie it planted for .example.test" % sib, "sibling", sib, FORM,
                     h.urlencode({"title": "CSRF", "body": "planted", "csrfmiddlewaretoken": planted}), jar))
    attempts.append(("a fetch from %s with a CSRF cookie it planted for .example.test" % sib, "sibling", sib,
                     dict(js, **{"X-CSRFToken": planted}), json.dumps({"title": "CSRF", "body": "planted"}), jar))
    for what, who, origin, headers, body, cookies in attempts:
        before = h.state()
        referer = None if origin == "null" else origin + "/"
        answer = w.browser.send("POST", "/api/notes/", who, origin=origin, referer=referer, navigation="form" in what,
                                headers=headers, body=body, jar=cookies, keep_cookies=cookies is None)
        w.refused(answer, what)
        w.unchanged(before, what)
        answer = w.browser.send("DELETE", "/api/notes/%d/" % w.note.pk, who, origin=origin, referer=referer,
                                headers=dict(js, **{"X-CSRFToken": planted if cookies else leaked}),
                                jar=cookies, keep_cookies=cookies is None)
        what = "a DELETE fetch from %s (%s) with %s token" % (origin, who, "a planted" if cookies else "the leaked")
        w.refused(answer, what)
        w.unchanged(before, what)


@pytest.mark.check("cors-spa-only")
def test_cors_only_for_the_spa(world, h):
    w = world
    origins = [o for _, o in w.hostile.pages()] + ["null"]
    for origin in origins:
        for path in ("/api/csrf/", "/api/notes/", "/api/auth/me/", "/api/notes/%d/" % w.note.pk):
            answer = w.browser.send("GET", path, "sibling" if origin == w.hostile.sibling else "legacy",
                                    origin=origin, headers={"Accept": "application/json"})
            acao = answer.headers.get("access-control-allow-origin")
            assert acao in (None, h.SPA), (
                "a credentialed GET %s from %s answered with Access-Control-Allow-Origin %r "
                "(Allow-Credentials %r): that page may read the victim's answer (the CSRF token, the notes)"
                % (path, origin, acao, answer.headers.get("access-control-allow-credentials")))
        for method in ("POST", "PATCH", "DELETE"):
            pre = h.preflight(w.browser, origin, method, "/api/notes/%d/" % w.note.pk, ["content-type", "x-csrftoken"])
            assert h.preflight_refusal(pre, origin, method, ["content-type", "x-csrftoken"]) is not None, (
                "a CORS preflight from %s for %s with X-CSRFToken was approved (%s, Allow-Origin %r): "
                "that page may send the SPA's requests" % (origin, method, pre.short(),
                                                           pre.headers.get("access-control-allow-origin")))


@pytest.mark.check("samesite-cookies")
def test_cookies_are_same_site(make_user, h, rng):
    w = h.World(make_user, rng, sign_in=True)
    seen = w.browser.seen_cookies
    assert seen, "signing in through the SPA set no cookie at all"
    for header in seen:
        name, _, attrs = h.parse_set_cookie(header)
        samesite = attrs.get("samesite")
        assert samesite and samesite.lower() in ("lax", "strict"), (
            "the API set cookie %s with %s; expected SameSite=Lax or Strict, so that other sites' "
            "requests do not carry it" % (name, "SameSite=%s" % samesite if samesite else "no SameSite"))


@pytest.mark.check("get-is-safe")
def test_get_changes_nothing(world, h):
    w = world
    pk = w.note.pk
    paths = ["/api/notes/%d/archive/" % pk, "/api/notes/%d/archive/?format=json" % pk, "/api/auth/logout/",
             "/api/notes/?" + h.urlencode({"title": "CSRF", "body": "forged"})]
    for who, origin in w.hostile.pages():
        for path in paths:
            before = h.state()
            # A link the victim follows (top-level navigation) and an <img> (a subresource).
            for navigation in (True, False):
                what = "a GET %s from a %s on %s" % (path, "link" if navigation else "image", origin)
                w.browser.send("GET", path, who, referer=origin + "/", navigation=navigation,
                               headers={"Accept": PAGE_ACCEPT if navigation else IMAGE_ACCEPT})
                w.unchanged(before, what)
                w.still_signed_in(what)
    # The SPA's own GETs change nothing either.
    for path in paths:
        before = h.state()
        w.browser.send("GET", path, "spa", origin=h.SPA, referer=h.SPA + "/notes", headers={"Accept": "application/json"})
        w.unchanged(before, "the SPA's GET %s" % path)
        w.still_signed_in("the SPA's GET %s" % path)


@pytest.mark.check("login-csrf")
def test_no_forged_login(make_user, h, rng):
    """Login CSRF: a hostile page must not sign the visitor in as the attacker."""
    w = h.World(make_user, rng, sign_in=False)
    w.spa.refresh_token()
    creds = {"username": w.attacker.username, "password": w.attacker.raw_password}
    tries = [(who, origin, FORM, h.urlencode(creds)) for who, origin in w.hostile.pages()]
    tries.append(("legacy", None, FORM, h.urlencode(creds)))
    tries.append(("sibling", w.hostile.sibling, {"Content-Type": "text/plain", "Accept": "*/*"}, json.dumps(creds)))
    tries.append(("sibling", w.hostile.sibling, {"Content-Type": "application/json", "Accept": "*/*"}, json.dumps(creds)))
    # The SPA's own origin does not make a token unnecessary either.
    tries.append(("spa", SPA_ORIGIN, {"Content-Type": "application/json", "Accept": "application/json"}, json.dumps(creds)))
    # Cookie tossing: a sibling subdomain plants a CSRF cookie for .example.test
    # and posts the matching token with the attacker's credentials.
    planted = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(32))
    jar = dict(w.browser.jar)
    for n in [n for n in jar if "csrf" in n.lower()] or ["csrftoken"]:
        jar[n] = (planted, "lax", "/")
    tossed = [
        ("sibling", w.hostile.sibling, FORM, h.urlencode(dict(creds, csrfmiddlewaretoken=planted)), jar),
        ("sibling", w.hostile.sibling, {"Content-Type": "application/json", "Accept": "*/*", "X-CSRFToken": planted},
         json.dumps(creds), jar),
    ]
    for who, origin, headers, body, cookies in [t + (None,) for t in tries] + tossed:
        answer = w.browser.send("POST", "/api/auth/login/", who, origin=origin, referer=(origin or w.hostile.cross) + "/",
                                navigation=headers is FORM, headers=headers, body=body, jar=cookies)
        now = w.spa.who()
        sender = ("a fetch from %s" % origin if headers is not FORM else "a form on %s" % origin) if origin else (
            "a form sent without Origin")
        if cookies is not None:
            sender += " with a CSRF cookie it planted for .example.test and the matching token"
        assert now != w.attacker.username, (
            "%s (%s) posting the attacker's username and password to /api/auth/login/ without the token "
            "answered %s and signed the visitor's browser in as the attacker" % (sender, who, answer.short()))
    # A link to the login URL with credentials in the query string signs nobody in.
    for who, origin in w.hostile.pages():
        w.browser.send("GET", "/api/auth/login/?" + h.urlencode(creds), who, referer=origin + "/", navigation=True,
                       headers={"Accept": PAGE_ACCEPT})
        assert w.spa.who() != w.attacker.username, (
            "a link on %s to GET /api/auth/login/ with the attacker's username and password in the query string "
            "signed the visitor's browser in as the attacker" % origin)
