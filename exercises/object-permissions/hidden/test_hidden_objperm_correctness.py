"""Hidden correctness checks: the rules must not lock out what is allowed."""
import pytest

from notes.models import Note


@pytest.mark.djgrade(points=2, category="correctness", name="Owners can update their notes with PUT and PATCH")
def test_owner_put_and_patch(h, people, note):
    client = h.client_for(people["owner"])
    resp = client.put(f"/api/notes/{note.pk}/", {"title": "New title", "body": "new body"}, format="json")
    assert resp.status_code == 200, resp.content
    assert resp.json()["title"] == "New title"
    resp = client.patch(f"/api/notes/{note.pk}/", {"body": "patched"}, format="json")
    assert resp.status_code == 200, resp.content
    assert resp.json()["body"] == "patched"
    fresh = Note.objects.get(pk=note.pk)
    assert (fresh.title, fresh.body, fresh.owner_id) == ("New title", "patched", people["owner"].pk)
    # A write the serializer rejects is still a 400 for the owner.
    resp = client.patch(f"/api/notes/{note.pk}/", {"title": ""}, format="json")
    assert resp.status_code == 400
    assert Note.objects.get(pk=note.pk).title == "New title"


@pytest.mark.djgrade(points=1, category="correctness", name="Owners can delete their notes")
def test_owner_delete(h, people, note):
    resp = h.client_for(people["owner"]).delete(f"/api/notes/{note.pk}/")
    assert resp.status_code == 204
    assert not Note.objects.filter(pk=note.pk).exists()


@pytest.mark.djgrade(points=2, category="correctness", name="Owners can archive and share their notes")
def test_owner_archive_and_share(h, people, note):
    client = h.client_for(people["owner"])
    resp = client.post(f"/api/notes/{note.pk}/archive/", format="json")
    assert resp.status_code == 200, resp.content
    assert Note.objects.get(pk=note.pk).is_archived
    stranger = people["stranger"]
    resp = client.post(f"/api/notes/{note.pk}/share/", {"user": stranger.pk}, format="json")
    assert resp.status_code == 200, resp.content
    assert Note.objects.filter(pk=note.pk, shared_with=stranger).exists()
    # Sharing grants read access, at once.
    resp = h.client_for(stranger).get(f"/api/notes/{note.pk}/")
    assert resp.status_code == 200
    assert resp.json()["body"] == "OLIVIA-SECRET-7731"


@pytest.mark.djgrade(points=1, category="correctness", name="A new note belongs to the user who created it")
def test_create_sets_owner(h, people):
    user = people["reader"]
    client = h.client_for(user)
    resp = client.post("/api/notes/", {"title": "Mine", "body": "b"}, format="json")
    assert resp.status_code == 201, resp.content
    assert resp.json()["owner"] == user.pk
    created = resp.json()["id"]
    assert Note.objects.get(pk=created).owner_id == user.pk
    resp = client.get("/api/notes/")
    assert resp.status_code == 200
    assert created in h.ids(resp)


@pytest.mark.djgrade(points=1, category="correctness", name="Users a note is shared with can read it")
def test_reader_can_read(h, people, note):
    own = Note.objects.create(owner=people["reader"], title="Rita's own")
    client = h.client_for(people["reader"])
    resp = client.get(f"/api/notes/{note.pk}/")
    assert resp.status_code == 200
    assert resp.json()["body"] == "OLIVIA-SECRET-7731"
    resp = client.get("/api/notes/")
    assert resp.status_code == 200
    assert sorted(h.ids(resp)) == sorted([note.pk, own.pk])


@pytest.mark.djgrade(points=1, category="correctness", name="Staff can read and delete any note")
def test_staff_read_and_delete(h, people, note, stranger_note):
    client = h.client_for(people["staff"])
    resp = client.get("/api/notes/")
    assert resp.status_code == 200
    assert sorted(h.ids(resp)) == sorted([note.pk, stranger_note.pk])
    resp = client.get(f"/api/notes/{note.pk}/")
    assert resp.status_code == 200
    assert resp.json()["body"] == "OLIVIA-SECRET-7731"
    resp = client.delete(f"/api/notes/{stranger_note.pk}/")
    assert resp.status_code == 204
    assert not Note.objects.filter(pk=stranger_note.pk).exists()
    assert Note.objects.filter(pk=note.pk).exists()


@pytest.mark.djgrade(points=1, category="correctness", name="Each note appears once in a list")
def test_list_has_no_duplicates(h, people, note):
    # Shared with a second user too: a join on the shares repeats the row.
    note.shared_with.add(people["stranger"])
    second = Note.objects.create(owner=people["owner"], title="Second")
    second.shared_with.add(people["reader"], people["staff"])
    for who, expected in [
        ("owner", [note.pk, second.pk]),
        ("reader", [note.pk, second.pk]),
        ("stranger", [note.pk]),
        ("staff", [note.pk, second.pk]),
    ]:
        resp = h.client_for(people[who]).get("/api/notes/")
        assert resp.status_code == 200
        listed = h.ids(resp)
        assert len(listed) == len(set(listed)), f"{who} sees {listed}"
        assert set(expected) <= set(listed), f"{who} sees {listed}"
    # The detail route must not trip over the repeated rows either.
    resp = h.client_for(people["owner"]).get(f"/api/notes/{note.pk}/")
    assert resp.status_code == 200


@pytest.mark.djgrade(points=1, category="correctness", name="Sharing with an unknown user is a 400")
def test_share_unknown_user(h, people, note):
    before = h.db_state()
    client = h.client_for(people["owner"])
    resp = client.post(f"/api/notes/{note.pk}/share/", {"user": 999999}, format="json")
    assert resp.status_code == 400
    resp = client.post(f"/api/notes/{note.pk}/share/", {}, format="json")
    assert resp.status_code == 400
    assert h.db_state() == before
