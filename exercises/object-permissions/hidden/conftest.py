"""Fixtures shared by the hidden object-permission checks.

Every check authenticates with force_authenticate (no session, no password
hashing, no queries) and compares the whole notes table before and after a
refused request, re-read from the database, so a write that "returned 403
after saving" or touched another row is caught.
"""
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from notes.models import Note


@pytest.fixture
def people(db):
    """Owner, stranger, reader (the note is shared with them) and staff."""
    User = get_user_model()
    return {
        "owner": User.objects.create_user("olivia", password="x"),
        "stranger": User.objects.create_user("sam", password="x"),
        "reader": User.objects.create_user("rita", password="x"),
        "staff": User.objects.create_user("stella", password="x", is_staff=True),
    }


@pytest.fixture
def note(people):
    """The owner's note, shared read-only with the reader."""
    n = Note.objects.create(owner=people["owner"], title="Olivia's plan", body="OLIVIA-SECRET-7731")
    n.shared_with.add(people["reader"])
    return n


@pytest.fixture
def stranger_note(people):
    """A note of the stranger's own, so their list is not trivially empty."""
    return Note.objects.create(owner=people["stranger"], title="Sam's list", body="SAM-BODY-4410")


def client_for(user):
    """An API client authenticated as user (anonymous when None)."""
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def db_state():
    """Every note and every share, read fresh from the database."""
    notes = list(
        Note.objects.order_by("pk").values_list("pk", "owner_id", "title", "body", "is_archived")
    )
    shares = sorted(Note.shared_with.through.objects.values_list("note_id", "user_id"))
    return notes, shares


def send(client, method, url, data=None):
    """Issue one request with a JSON body where the method takes one."""
    if method in ("get", "delete"):
        return getattr(client, method)(url)
    return getattr(client, method)(url, data if data is not None else {}, format="json")


def object_routes(pk, share_with):
    """Every write route that touches one note: (method, url, payload)."""
    return [
        ("put", f"/api/notes/{pk}/", {"title": "PWNED", "body": "PWNED"}),
        ("patch", f"/api/notes/{pk}/", {"body": "PWNED"}),
        ("post", f"/api/notes/{pk}/archive/", {}),
        ("post", f"/api/notes/{pk}/share/", {"user": share_with}),
        ("delete", f"/api/notes/{pk}/", None),
    ]


def ids(resp):
    """The note ids in a list response, in order, duplicates kept."""
    body = resp.json()
    if isinstance(body, dict) and "results" in body:
        body = body["results"]
    return [item["id"] for item in body]


@pytest.fixture
def h():
    """The helpers above, as a fixture: test modules never import conftest,
    whose module name another conftest.py in the workspace could shadow."""
    return SimpleNamespace(
        client_for=client_for, db_state=db_state, send=send, object_routes=object_routes, ids=ids
    )
