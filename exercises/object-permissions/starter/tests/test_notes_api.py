"""Public tests for the notes API. Run them with: python3 -m pytest tests

Some of these fail on the code you were given; making them pass is part of
the task, but not all of it.
"""
import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from notes.models import Note

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice():
    return get_user_model().objects.create_user("alice", password="pw")


@pytest.fixture
def bob():
    return get_user_model().objects.create_user("bob", password="pw")


def client_for(user):
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def test_owner_creates_a_note(alice):
    resp = client_for(alice).post(
        "/api/notes/", {"title": "Groceries", "body": "eggs"}, format="json"
    )
    assert resp.status_code == 201, resp.content
    note = Note.objects.get(pk=resp.json()["id"])
    assert note.owner == alice
    assert resp.json()["owner"] == alice.pk


def test_owner_updates_their_note(alice):
    note = Note.objects.create(owner=alice, title="Draft", body="")
    client = client_for(alice)
    resp = client.put(
        f"/api/notes/{note.pk}/", {"title": "Final", "body": "done"}, format="json"
    )
    assert resp.status_code == 200, resp.content
    resp = client.patch(f"/api/notes/{note.pk}/", {"body": "really done"}, format="json")
    assert resp.status_code == 200, resp.content
    note.refresh_from_db()
    assert (note.title, note.body) == ("Final", "really done")


def test_owner_archives_their_note(alice):
    note = Note.objects.create(owner=alice, title="Old")
    resp = client_for(alice).post(f"/api/notes/{note.pk}/archive/", format="json")
    assert resp.status_code == 200, resp.content
    note.refresh_from_db()
    assert note.is_archived


def test_owner_deletes_their_note(alice):
    note = Note.objects.create(owner=alice, title="Bin me")
    resp = client_for(alice).delete(f"/api/notes/{note.pk}/")
    assert resp.status_code == 204, resp.content
    assert not Note.objects.filter(pk=note.pk).exists()


def test_anonymous_cannot_list():
    resp = client_for(None).get("/api/notes/")
    assert resp.status_code in (401, 403)


def test_other_user_cannot_update(alice, bob):
    note = Note.objects.create(owner=alice, title="Mine", body="private")
    resp = client_for(bob).patch(f"/api/notes/{note.pk}/", {"body": "pwned"}, format="json")
    assert resp.status_code in (403, 404)
    note.refresh_from_db()
    assert note.body == "private"


def test_other_user_cannot_delete(alice, bob):
    note = Note.objects.create(owner=alice, title="Mine")
    resp = client_for(bob).delete(f"/api/notes/{note.pk}/")
    assert resp.status_code in (403, 404)
    assert Note.objects.filter(pk=note.pk).exists()


def test_list_shows_only_my_notes(alice, bob):
    mine = Note.objects.create(owner=alice, title="Mine")
    Note.objects.create(owner=bob, title="Bob's")
    resp = client_for(alice).get("/api/notes/")
    assert resp.status_code == 200
    assert [n["id"] for n in resp.json()] == [mine.pk]
