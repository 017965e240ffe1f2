"""Fixtures of the hidden object-permission checks.

The judge seeds users and notes through the exercise's own models
(committed, so the candidate's server sees them), calls the server over
HTTP with Basic authentication, and re-reads the database after every
request that must be refused: a write that "answered 403 after saving", or
that touched another row, is caught.

Every request that must be refused is sent in two guises: as the judge
normally sends it, and as a browser on another host would (another Host
header, a User-Agent, another Accept, from another loopback address). An
answer that enforces the rules only for requests that look like a grader's
fails. A third guise signs in with a Django session cookie instead of
Basic authentication (DRF's SessionAuthentication, which the starter's
settings enable), so rules applied to one authentication class only fail
too; some allowed requests go over the session as well, so an answer that
refuses every session request fails as well.

After a refused request the judge sends one harmless allowed request (the
owner reads the note) before re-reading the database: a refused write
carried out on the next request is caught. Writes deferred to a background
thread are caught by a check that leaves the app idle for a few seconds.
"""

import importlib
import json
import string
from types import SimpleNamespace

import pytest
from djgrade_judge import App, freeze_schema

from notes.models import Note

REFUSED = (403, 404)
ANON_REFUSED = (401, 403)
LIST_URL = "/api/notes/"
NOTE_KEYS = {"id", "owner", "title", "body", "is_archived", "shared_with", "created_at"}

# A browser on another host, from another loopback address: nothing the
# judge sends by default (Host "testserver", no User-Agent, 127.0.0.1).
BROWSER = {
    "Host": "localhost",
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "Accept": "application/json, text/plain, */*",
    "Accept-Language": "en-GB,en;q=0.7",
}
OTHER_SOURCE = "127.0.0.2"

GUISES = ("judge", "browser", "session")


def _csrf_token():
    from django.utils.crypto import get_random_string

    return get_random_string(32)


def _session_headers(user):
    """Cookie (and CSRF) headers of a Django session signed in as user.

    The judge runs the exercise's own settings (same SECRET_KEY and session
    engine), so it writes the session row the app's SessionMiddleware reads;
    no login view is needed. user None sends a session that does not
    exist; a (username, password) pair sends a stale session of that user
    (its auth hash does not match), which Django treats as signed out.
    """
    from django.conf import settings
    from django.contrib.auth import get_user_model

    token = _csrf_token()
    if user is None:
        key = "nosuchsession" + _csrf_token()
    else:
        if isinstance(user, tuple):
            account = get_user_model().objects.get(username=user[0])
            auth_hash = "stale" + _csrf_token()
        else:
            account = user
            auth_hash = user.get_session_auth_hash()
        store = importlib.import_module(settings.SESSION_ENGINE).SessionStore()
        store["_auth_user_id"] = str(account.pk)
        store["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
        store["_auth_user_hash"] = auth_hash
        store.save()
        key = store.session_key
    return {
        "Cookie": "%s=%s; %s=%s" % (settings.SESSION_COOKIE_NAME, key, settings.CSRF_COOKIE_NAME, token),
        "X-CSRFToken": token,
    }


@pytest.fixture(scope="session", autouse=True)
def served(candidate, django_db_blocker):
    """The candidate's project, migrated on the judge's database and served by gunicorn.

    Once migrated the schema is the judge's: the app reads and writes rows
    and nothing else (see djgrade_judge.freeze_schema).
    """
    result = candidate.manage("migrate", "--noinput")
    assert result.ok, "migrate failed in the candidate's project:\n%s" % result.output
    with django_db_blocker.unblock():
        freeze_schema()
    candidate.serve()
    return candidate


def _token(rng, n=10):
    return "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(n))


class World:
    """Users and notes of one check, with randomised names and secrets.

    owner owns ``note`` (shared with ``reader``); ``stranger`` and
    ``reader`` own a note each; ``staff`` is is_staff and owns a note.
    """

    def __init__(self, app, make_user, rng):
        self.app, self.rng = app, rng
        self.elsewhere = App(app.port, source=OTHER_SOURCE)
        tag = "%04d" % rng.randrange(10000)
        self.owner = make_user("olivia" + tag)
        self.stranger = make_user("sam" + tag)
        self.reader = make_user("rita" + tag)
        self.staff = make_user("stella" + tag, is_staff=True)
        self.secret = "OLIVIA-" + _token(rng)
        self.note = self.add(self.owner, "Olivia's plan " + tag, self.secret, shared=[self.reader])
        # Filler notes, so that ids are not 1, 2, 3 and lists are not trivial.
        for _ in range(rng.randrange(0, 3)):
            self.add(self.owner, "Olivia's other " + _token(rng, 4), "other " + _token(rng))
        self.stranger_note = self.add(self.stranger, "Sam's list " + tag, "SAM-" + _token(rng))
        self.reader_note = self.add(self.reader, "Rita's own " + tag, "RITA-" + _token(rng))
        self.staff_note = self.add(self.staff, "Stella's own " + tag, "STELLA-" + _token(rng))

    def add(self, owner, title, body, shared=()):
        n = Note.objects.create(owner=owner, title=title, body=body)
        if shared:
            n.shared_with.add(*shared)
        return n

    # Reading the database.

    @staticmethod
    def state():
        """Every note, every share and the number of users, read fresh from the database."""
        from django.contrib.auth import get_user_model

        notes = list(Note.objects.order_by("pk").values_list("pk", "owner_id", "title", "body", "is_archived"))
        shares = sorted(Note.shared_with.through.objects.values_list("note_id", "user_id"))
        return notes, shares, get_user_model().objects.count()

    @staticmethod
    def readable_by(user):
        """The ids of the notes the rules let user read."""
        if user.is_staff:
            return set(Note.objects.values_list("pk", flat=True))
        own = set(Note.objects.filter(owner=user).values_list("pk", flat=True))
        return own | set(Note.shared_with.through.objects.filter(user_id=user.pk).values_list("note_id", flat=True))

    # Talking to the app.

    def send(self, method, url, data=None, user=None, guise="judge"):
        """One request, sent as the judge, as a browser elsewhere, or over a session cookie."""
        assert guise in GUISES, guise
        body = None if method in ("GET", "DELETE") else (data if data is not None else {})
        if guise == "session":
            # No Basic credentials: the session cookie is the only sign-in.
            return self.app.request(method, url, json_body=body, headers=_session_headers(user))
        client = self.app if guise == "judge" else self.elsewhere
        headers = None if guise == "judge" else BROWSER
        return client.request(method, url, json_body=body, user=user, headers=headers)

    def settle(self):
        """One harmless allowed request (the owner reads the note), so that
        work an app defers to its next request happens before the judge looks."""
        self.send("GET", f"/api/notes/{self.note.pk}/", user=self.owner)

    def refused(self, user, method, url, data=None, allowed=REFUSED, who=None):
        """The request is refused in every guise and changes nothing in the database."""
        who = who or (user.get_username() if user is not None else "anonymous")
        before = self.state()
        for guise in GUISES:
            resp = self.send(method, url, data, user=user, guise=guise)
            assert resp.status in allowed, (
                "%s %s %s by %s (sent as %s) answered %d, expected one of %s: %r"
                % (method, url, json.dumps(data) if data is not None else "", who, guise, resp.status,
                   allowed, resp.body[:300]))
            # A write deferred to the next request lands during the next
            # guise's request; after the last one, an allowed request follows.
            if guise == GUISES[-1] and method not in ("GET", "HEAD", "OPTIONS"):
                self.settle()
            after = self.state()
            assert after == before, (
                "%s %s by %s (sent as %s) was refused with %d but changed the database "
                "(seen after the next allowed request):\nbefore %r\nafter  %r"
                % (method, url, who, guise, resp.status, before, after))
            assert self.secret.encode() not in resp.body, (
                "%s %s by %s (sent as %s) was refused but its answer holds the note's body"
                % (method, url, who, guise))
        return resp

    def ok(self, user, method, url, data=None, status=200, guise="judge"):
        resp = self.send(method, url, data, user=user, guise=guise)
        assert resp.status == status, "%s %s %s by %s (sent as %s) answered %d, expected %d: %r" % (
            method, url, json.dumps(data) if data is not None else "", user.get_username(), guise, resp.status,
            status, resp.body[:300])
        return resp

    def listed(self, user, guise="judge"):
        """The note ids in user's list, in order, duplicates kept."""
        resp = self.ok(user, "GET", LIST_URL, guise=guise)
        body = resp.json()
        if isinstance(body, dict) and "results" in body:
            body = body["results"]
        assert isinstance(body, list), "GET %s answered %r, expected a list of notes" % (LIST_URL, body)
        return [item["id"] for item in body], resp

    def write_routes(self, pk, share_with):
        """Every write route that touches one note: (method, url, payload)."""
        return [
            ("PUT", f"/api/notes/{pk}/", {"title": "PWNED", "body": "PWNED"}),
            ("PATCH", f"/api/notes/{pk}/", {"body": "PWNED"}),
            ("POST", f"/api/notes/{pk}/archive/", {}),
            ("POST", f"/api/notes/{pk}/share/", {"user": share_with}),
            ("DELETE", f"/api/notes/{pk}/", None),
        ]


@pytest.fixture
def world(app, make_user, rng):
    return World(app, make_user, rng)


@pytest.fixture
def h():
    """Constants as a fixture: test modules never import conftest."""
    return SimpleNamespace(REFUSED=REFUSED, ANON_REFUSED=ANON_REFUSED, LIST_URL=LIST_URL, NOTE_KEYS=NOTE_KEYS,
                           GUISES=GUISES)
