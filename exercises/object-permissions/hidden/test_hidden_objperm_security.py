"""Hidden security checks for the notes API's object permissions."""
import pytest

from notes.models import Note

REFUSED = (403, 404)


@pytest.mark.djgrade(points=2, category="security", name="Anonymous requests are refused on every route")
def test_anonymous_refused_everywhere(h, people, note):
    before = h.db_state()
    anon = h.client_for(None)
    calls = [
        ("get", "/api/notes/", None),
        ("post", "/api/notes/", {"title": "anon", "body": "anon", "owner": people["owner"].pk}),
        ("get", f"/api/notes/{note.pk}/", None),
    ] + h.object_routes(note.pk, people["stranger"].pk)
    for method, url, data in calls:
        resp = h.send(anon, method, url, data)
        assert resp.status_code in (401, 403), f"anonymous {method.upper()} {url} -> {resp.status_code}"
        assert b"OLIVIA-SECRET" not in resp.content
    assert h.db_state() == before


@pytest.mark.djgrade(points=2, category="security", name="Other users cannot read a private note")
def test_stranger_cannot_retrieve(h, people, note):
    resp = h.client_for(people["stranger"]).get(f"/api/notes/{note.pk}/")
    assert resp.status_code in REFUSED
    assert b"OLIVIA-SECRET" not in resp.content


def _refused_write(h, user, method, url, data):
    before = h.db_state()
    resp = h.send(h.client_for(user), method, url, data)
    assert resp.status_code in REFUSED, f"{method.upper()} {url} -> {resp.status_code}"
    assert h.db_state() == before, f"{method.upper()} {url} changed the database"


@pytest.mark.djgrade(points=2, category="security", name="Other users cannot replace a note (PUT)")
def test_stranger_cannot_put(h, people, note):
    _refused_write(h, people["stranger"], "put", f"/api/notes/{note.pk}/", {"title": "PWNED", "body": "PWNED"})


@pytest.mark.djgrade(points=2, category="security", name="Other users cannot partially update a note (PATCH)")
def test_stranger_cannot_patch(h, people, note):
    _refused_write(h, people["stranger"], "patch", f"/api/notes/{note.pk}/", {"body": "PWNED"})
    _refused_write(h, people["stranger"], "patch", f"/api/notes/{note.pk}/", {"title": "PWNED"})


@pytest.mark.djgrade(points=2, category="security", name="Other users cannot delete a note")
def test_stranger_cannot_delete(h, people, note):
    _refused_write(h, people["stranger"], "delete", f"/api/notes/{note.pk}/", None)


@pytest.mark.djgrade(points=2, category="security", name="Other users cannot archive a note")
def test_stranger_cannot_archive(h, people, note):
    _refused_write(h, people["stranger"], "post", f"/api/notes/{note.pk}/archive/", {})


@pytest.mark.djgrade(points=2, category="security", name="Other users cannot share a note")
def test_stranger_cannot_share(h, people, note):
    # Sharing a note with yourself is how a stranger would gain read access.
    _refused_write(h, people["stranger"], "post", f"/api/notes/{note.pk}/share/", {"user": people["stranger"].pk})
    resp = h.client_for(people["stranger"]).get(f"/api/notes/{note.pk}/")
    assert resp.status_code in REFUSED


@pytest.mark.djgrade(points=2, category="security", name="Lists show only the notes a user may see")
def test_list_is_scoped(h, people, note, stranger_note):
    resp = h.client_for(people["stranger"]).get("/api/notes/")
    assert resp.status_code == 200
    assert sorted(h.ids(resp)) == [stranger_note.pk]
    assert b"OLIVIA-SECRET" not in resp.content
    resp = h.client_for(people["owner"]).get("/api/notes/")
    assert resp.status_code == 200
    assert sorted(h.ids(resp)) == [note.pk]


@pytest.mark.djgrade(points=2, category="security", name="The owner of a new note cannot be spoofed")
def test_owner_not_spoofable_on_create(h, people, note):
    victim, attacker = people["owner"], people["stranger"]
    victims_notes = list(Note.objects.filter(owner=victim).order_by("pk").values_list("pk", flat=True))
    count = Note.objects.count()
    resp = h.client_for(attacker).post(
        "/api/notes/", {"title": "Planted", "body": "planted", "owner": victim.pk}, format="json"
    )
    # Ignoring the field (201, owned by the requester) or rejecting it (400) are both fine.
    assert resp.status_code in (201, 400), resp.status_code
    if resp.status_code == 201:
        created = Note.objects.get(pk=resp.json()["id"])
        assert created.owner_id == attacker.pk
        assert resp.json().get("owner", attacker.pk) == attacker.pk
        assert Note.objects.count() == count + 1
    else:
        assert Note.objects.count() == count
    assert list(Note.objects.filter(owner=victim).order_by("pk").values_list("pk", flat=True)) == victims_notes


@pytest.mark.djgrade(points=2, category="security", name="Ownership cannot be transferred on update")
def test_owner_not_transferable_on_update(h, people, note):
    owner, other = people["owner"], people["stranger"]
    client = h.client_for(owner)
    for method, data in [
        ("patch", {"owner": other.pk}),
        ("put", {"title": "Olivia's plan", "body": "OLIVIA-SECRET-7731", "owner": other.pk}),
    ]:
        resp = h.send(client, method, f"/api/notes/{note.pk}/", data)
        assert resp.status_code in (200, 400), f"{method.upper()} -> {resp.status_code}"
        assert Note.objects.get(pk=note.pk).owner_id == owner.pk, f"{method.upper()} moved the note"
        if resp.status_code == 200:
            assert resp.json().get("owner", owner.pk) == owner.pk


@pytest.mark.djgrade(points=1, category="security", name="Users a note is shared with cannot change it")
def test_reader_cannot_write(h, people, note):
    for method, url, data in h.object_routes(note.pk, people["stranger"].pk):
        _refused_write(h, people["reader"], method, url, data)


@pytest.mark.djgrade(points=1, category="security", name="Staff cannot edit other users' notes")
def test_staff_cannot_edit(h, people, note):
    for method, url, data in h.object_routes(note.pk, people["stranger"].pk):
        if method == "delete":
            continue  # staff may delete any note; a correctness check covers it
        _refused_write(h, people["staff"], method, url, data)
