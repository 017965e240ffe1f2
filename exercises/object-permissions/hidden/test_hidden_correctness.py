"""Hidden correctness checks: the rules must not lock out what is allowed, nor change the API."""

import datetime

import pytest

from notes.models import Note


def expected_json(note):
    """The representation the prompt promises for note, built from the database."""
    note = Note.objects.get(pk=note.pk)
    return {
        "id": note.pk,
        "owner": note.owner_id,
        "title": note.title,
        "body": note.body,
        "is_archived": note.is_archived,
        "shared_with": sorted(note.shared_with.values_list("pk", flat=True)),
        "created_at": note.created_at,
    }


def assert_note_json(got, note, what):
    want = expected_json(note)
    assert isinstance(got, dict) and set(got) == set(want), "%s: expected the keys %s, got %r" % (
        what, sorted(want), sorted(got) if isinstance(got, dict) else got)
    got = dict(got)
    created = got.pop("created_at")
    try:
        created = datetime.datetime.fromisoformat(str(created).replace("Z", "+00:00"))
    except ValueError:
        raise AssertionError("%s: created_at %r is not an ISO 8601 date-time" % (what, created)) from None
    assert created == want.pop("created_at"), "%s: created_at %r is not the note's" % (what, created)
    if isinstance(got.get("shared_with"), list):
        try:
            got["shared_with"] = sorted(got["shared_with"])
        except TypeError:
            pass
    assert got == want, "%s: expected %r, got %r" % (what, want, got)


@pytest.mark.check("owner-put-patch")
def test_owner_put_and_patch(world):
    w = world
    url = f"/api/notes/{w.note.pk}/"
    title = "New title " + w.secret[-4:]
    resp = w.ok(w.owner, "PUT", url, {"title": title, "body": "new body"})
    assert resp.json()["title"] == title and resp.json()["body"] == "new body", (
        "the owner's PUT %s answered %r, expected title %r and body 'new body'" % (url, resp.json(), title))
    resp = w.ok(w.owner, "PATCH", url, {"body": "patched"})
    assert resp.json()["body"] == "patched" and resp.json()["title"] == title, (
        "the owner's PATCH %s of the body answered %r, expected title %r and body 'patched'" % (url, resp.json(), title))
    fresh = Note.objects.get(pk=w.note.pk)
    assert (fresh.title, fresh.body, fresh.owner_id) == (title, "patched", w.owner.pk), (
        "after the owner's PUT and PATCH the database holds title %r, body %r, owner %s; expected %r, 'patched', %s"
        % (fresh.title, fresh.body, fresh.owner_id, title, w.owner.pk))
    # Signed in with a session cookie instead of Basic, the owner's edits work the same.
    resp = w.ok(w.owner, "GET", url, guise="session")
    assert resp.json()["body"] == "patched", (
        "the owner's GET %s over a session cookie answered %r, expected body 'patched'" % (url, resp.json()))
    resp = w.ok(w.owner, "PATCH", url, {"body": "patched in a browser"}, guise="session")
    assert resp.json()["body"] == "patched in a browser", (
        "the owner's PATCH %s over a session cookie answered %r, expected body 'patched in a browser'" % (url, resp.json()))
    resp = w.ok(w.owner, "PATCH", url, {"body": "patched"})
    fresh = Note.objects.get(pk=w.note.pk)
    assert (fresh.title, fresh.body, fresh.owner_id) == (title, "patched", w.owner.pk), (
        "after the owner's edits the database holds title %r, body %r, owner %s; expected %r, 'patched', %s"
        % (fresh.title, fresh.body, fresh.owner_id, title, w.owner.pk))
    # The share survives an edit.
    assert Note.objects.filter(pk=w.note.pk, shared_with=w.reader).exists(), (
        "after the owner's edits the note is no longer shared with the reader")
    # A write the serializer rejects is still a 400 for the owner.
    before = w.state()
    resp = w.send("PATCH", url, {"title": ""}, user=w.owner)
    assert resp.status == 400, "PATCH with an empty title answered %d, expected 400" % resp.status
    resp = w.send("PUT", url, {"body": "no title"}, user=w.owner)
    assert resp.status == 400, "PUT without a title answered %d, expected 400" % resp.status
    assert w.state() == before, "a rejected edit changed the database"


@pytest.mark.check("owner-delete")
def test_owner_delete(world):
    w = world
    w.ok(w.owner, "DELETE", f"/api/notes/{w.note.pk}/", status=204)
    assert not Note.objects.filter(pk=w.note.pk).exists(), (
        "the owner's DELETE /api/notes/%s/ answered 204 but the note is still in the database" % w.note.pk)
    assert Note.objects.filter(pk=w.stranger_note.pk).exists(), (
        "the owner's DELETE /api/notes/%s/ also deleted another user's note %s" % (w.note.pk, w.stranger_note.pk))
    w.ok(w.reader, "DELETE", f"/api/notes/{w.reader_note.pk}/", status=204)
    assert not Note.objects.filter(pk=w.reader_note.pk).exists(), (
        "the reader's DELETE of their own note /api/notes/%s/ answered 204 but the note is still in the database"
        % w.reader_note.pk)


@pytest.mark.check("owner-archive-share")
def test_owner_archive_and_share(world):
    w = world
    resp = w.ok(w.owner, "POST", f"/api/notes/{w.note.pk}/archive/", {})
    assert resp.json().get("is_archived") is True, (
        "the owner's POST /api/notes/%s/archive/ answered %r, expected is_archived true" % (w.note.pk, resp.json()))
    assert Note.objects.get(pk=w.note.pk).is_archived, (
        "the owner's POST /api/notes/%s/archive/ answered 200 but the note is not archived in the database" % w.note.pk)
    resp = w.ok(w.owner, "POST", f"/api/notes/{w.note.pk}/share/", {"user": w.stranger.pk})
    assert Note.objects.filter(pk=w.note.pk, shared_with=w.stranger).exists(), (
        "the owner's POST /api/notes/%s/share/ with user %s answered 200 but the share is not in the database"
        % (w.note.pk, w.stranger.pk))
    assert Note.objects.filter(pk=w.note.pk, shared_with=w.reader).exists(), "sharing dropped the earlier share"
    # Sharing grants read access, at once.
    resp = w.ok(w.stranger, "GET", f"/api/notes/{w.note.pk}/")
    assert resp.json()["body"] == w.secret, (
        "GET /api/notes/%s/ by the user it was just shared with answered body %r, expected the note's body"
        % (w.note.pk, resp.json()["body"]))
    listed, _ = w.listed(w.stranger)
    assert w.note.pk in listed, "the note shared with %s is not in their list" % w.stranger.get_username()


@pytest.mark.check("create-sets-owner")
def test_create_sets_owner(world, h):
    w = world
    for user in (w.reader, w.staff):
        resp = w.ok(user, "POST", h.LIST_URL, {"title": "Mine", "body": "b"}, status=201,
                    guise="session" if user is w.staff else "judge")
        created = resp.json()["id"]
        assert resp.json()["owner"] == user.pk, "POST %s by %s (user %s) answered owner %r, expected %s" % (
            h.LIST_URL, user.get_username(), user.pk, resp.json()["owner"], user.pk)
        owner_id = Note.objects.get(pk=created).owner_id
        assert owner_id == user.pk, "POST %s by %s (user %s) created note %s owned by user %s in the database" % (
            h.LIST_URL, user.get_username(), user.pk, created, owner_id)
        listed, _ = w.listed(user)
        assert created in listed, "the note %s that %s just created is not in their list %s" % (
            created, user.get_username(), listed)
        w.ok(user, "GET", f"/api/notes/{created}/")


@pytest.mark.check("reader-can-read")
def test_reader_can_read(world):
    w = world
    for guise in ("judge", "session"):
        resp = w.ok(w.reader, "GET", f"/api/notes/{w.note.pk}/", guise=guise)
        assert resp.json()["body"] == w.secret, (
            "the reader's GET /api/notes/%s/ (sent as %s) answered body %r, expected the body of the note shared with them"
            % (w.note.pk, guise, resp.json()["body"]))
        listed, _ = w.listed(w.reader, guise=guise)
        assert sorted(listed) == sorted([w.note.pk, w.reader_note.pk]), (
            "the reader's list (sent as %s) is %s, expected their own note and the one shared with them: %s"
            % (guise, listed, sorted([w.note.pk, w.reader_note.pk])))


@pytest.mark.check("staff-read-delete")
def test_staff_read_and_delete(world):
    w = world
    listed, _ = w.listed(w.staff)
    everything = sorted(Note.objects.values_list("pk", flat=True))
    assert sorted(listed) == everything, "staff's list is %s, expected every note %s" % (listed, everything)
    resp = w.ok(w.staff, "GET", f"/api/notes/{w.note.pk}/")
    assert resp.json()["body"] == w.secret, (
        "staff's GET /api/notes/%s/ answered body %r, expected the note's body" % (w.note.pk, resp.json()["body"]))
    w.ok(w.staff, "GET", f"/api/notes/{w.stranger_note.pk}/", guise="session")
    w.ok(w.staff, "DELETE", f"/api/notes/{w.stranger_note.pk}/", status=204, guise="session")
    assert not Note.objects.filter(pk=w.stranger_note.pk).exists(), (
        "staff's DELETE /api/notes/%s/ (over a session cookie) answered 204 but the note is still in the database"
        % w.stranger_note.pk)
    w.ok(w.staff, "DELETE", f"/api/notes/{w.note.pk}/", status=204)
    assert not Note.objects.filter(pk=w.note.pk).exists(), (
        "staff's DELETE /api/notes/%s/ answered 204 but the note is still in the database" % w.note.pk)
    assert Note.objects.filter(pk=w.reader_note.pk).exists(), (
        "staff's two DELETEs also deleted note %s, which they did not delete" % w.reader_note.pk)


@pytest.mark.check("staff-own-notes")
def test_staff_own_notes(world):
    w = world
    url = f"/api/notes/{w.staff_note.pk}/"
    w.ok(w.staff, "PUT", url, {"title": "Stella's rules", "body": "be kind"})
    w.ok(w.staff, "PATCH", url, {"body": "be very kind"})
    w.ok(w.staff, "POST", url + "archive/", {})
    w.ok(w.staff, "POST", url + "share/", {"user": w.reader.pk})
    fresh = Note.objects.get(pk=w.staff_note.pk)
    saw = (fresh.title, fresh.body, fresh.is_archived, fresh.owner_id)
    want = ("Stella's rules", "be very kind", True, w.staff.pk)
    assert saw == want, (
        "after staff's PUT, PATCH and archive of their own note the database holds (title, body, is_archived, owner) "
        "%r, expected %r" % (saw, want))
    assert Note.objects.filter(pk=fresh.pk, shared_with=w.reader).exists(), (
        "staff's POST %sshare/ of their own note with the reader answered 200 but the share is not in the database" % url)
    resp = w.ok(w.reader, "GET", url)
    assert resp.json()["body"] == "be very kind", (
        "the reader's GET %s of the note staff shared with them answered body %r, expected 'be very kind'"
        % (url, resp.json()["body"]))


@pytest.mark.check("list-each-once")
def test_list_has_no_duplicates(world):
    w = world
    # Shared with several users: a join on the shares repeats the row.
    w.note.shared_with.add(w.stranger, w.staff)
    second = w.add(w.owner, "Second", "second", shared=[w.reader, w.staff, w.stranger])
    w.add(w.stranger, "Sam's shared", "s", shared=[w.reader, w.owner])
    for user in (w.owner, w.reader, w.stranger, w.staff):
        listed, _ = w.listed(user)
        assert len(listed) == len(set(listed)), "%s's list repeats notes: %s" % (user.get_username(), listed)
        want = sorted(w.readable_by(user))
        assert sorted(listed) == want, "%s's list is %s, expected %s" % (user.get_username(), sorted(listed), want)
    # The detail routes must not trip over the repeated rows either.
    w.ok(w.owner, "GET", f"/api/notes/{second.pk}/")
    w.ok(w.reader, "GET", f"/api/notes/{second.pk}/")
    w.ok(w.owner, "PATCH", f"/api/notes/{second.pk}/", {"body": "still one"})


@pytest.mark.check("note-format")
def test_note_format(world, h):
    w = world
    resp = w.ok(w.owner, "GET", f"/api/notes/{w.note.pk}/")
    assert_note_json(resp.json(), w.note, "GET detail")
    resp = w.ok(w.owner, "POST", h.LIST_URL, {"title": "Fresh", "body": "fresh body"}, status=201)
    created = Note.objects.get(pk=resp.json()["id"])
    assert_note_json(resp.json(), created, "POST create")
    listed = w.ok(w.reader, "GET", h.LIST_URL).json()
    if isinstance(listed, dict) and "results" in listed:
        listed = listed["results"]
    by_id = {item["id"]: item for item in listed}
    assert w.note.pk in by_id, "the reader's list holds notes %s, expected note %s shared with them among them" % (
        sorted(by_id), w.note.pk)
    assert_note_json(by_id[w.note.pk], w.note, "GET list")
    resp = w.ok(w.owner, "POST", f"/api/notes/{w.note.pk}/archive/", {})
    assert_note_json(resp.json(), w.note, "POST archive")


@pytest.mark.check("validation-400")
def test_validation_errors(world, h):
    w = world
    before = w.state()
    share = f"/api/notes/{w.note.pk}/share/"
    missing_user = max(w.staff.pk, w.reader.pk, w.owner.pk, w.stranger.pk) + 1000
    for data, what in [({"user": missing_user}, "a user that does not exist"), ({}, "no user"),
                       ({"user": "nobody"}, "a user that is not an id")]:
        resp = w.send("POST", share, data, user=w.owner)
        assert resp.status == 400, "sharing with %s answered %d, expected 400: %r" % (what, resp.status, resp.body[:300])
    resp = w.send("POST", h.LIST_URL, {"title": "", "body": "x"}, user=w.owner)
    assert resp.status == 400, "creating a note with an empty title answered %d, expected 400" % resp.status
    assert w.state() == before, "a rejected request changed the database"
