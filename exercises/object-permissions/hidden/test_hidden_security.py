"""Hidden security checks: who may not read, change, archive, share or delete a note.

Every refused request is re-checked against the database (notes, shares,
users), and sent as the judge, as a browser on another host would, and
over a session cookie instead of Basic authentication.
"""

import pytest
from djgrade_judge import assert_app_idle

from notes.models import Note


@pytest.mark.check("anonymous-refused")
def test_anonymous_refused_everywhere(world, h):
    w = world
    pk = w.note.pk
    calls = [
        ("GET", h.LIST_URL, None),
        ("POST", h.LIST_URL, {"title": "anon", "body": "anon"}),
        ("POST", h.LIST_URL, {"title": "anon", "body": "anon", "owner": w.owner.pk}),
        ("GET", f"/api/notes/{pk}/", None),
    ] + w.write_routes(pk, w.stranger.pk)
    for method, url, data in calls:
        w.refused(None, method, url, data, allowed=h.ANON_REFUSED)
    # A wrong password is no better than none.
    wrong = (w.owner.get_username(), "not-the-password")
    for method, url, data in [("GET", h.LIST_URL, None), ("GET", f"/api/notes/{pk}/", None),
                              ("PATCH", f"/api/notes/{pk}/", {"body": "PWNED"}), ("DELETE", f"/api/notes/{pk}/", None)]:
        w.refused(wrong, method, url, data, allowed=h.ANON_REFUSED, who="a wrong password")


@pytest.mark.check("stranger-cannot-read")
def test_stranger_cannot_retrieve(world):
    w = world
    w.refused(w.stranger, "GET", f"/api/notes/{w.note.pk}/")
    # Not the reader's own note either, though the reader can read another.
    w.refused(w.stranger, "GET", f"/api/notes/{w.reader_note.pk}/")


@pytest.mark.check("stranger-cannot-put")
def test_stranger_cannot_put(world):
    w = world
    w.refused(w.stranger, "PUT", f"/api/notes/{w.note.pk}/", {"title": "PWNED", "body": "PWNED"})
    w.refused(w.stranger, "PUT", f"/api/notes/{w.note.pk}/",
              {"title": "PWNED", "body": "PWNED", "owner": w.stranger.pk})


@pytest.mark.check("stranger-cannot-patch")
def test_stranger_cannot_patch(world):
    w = world
    url = f"/api/notes/{w.note.pk}/"
    for payload in ({"body": "PWNED"}, {"title": "PWNED"}, {"owner": w.stranger.pk}, {"is_archived": True}):
        w.refused(w.stranger, "PATCH", url, payload)


@pytest.mark.check("stranger-cannot-delete")
def test_stranger_cannot_delete(world):
    w = world
    w.refused(w.stranger, "DELETE", f"/api/notes/{w.note.pk}/")
    w.refused(w.stranger, "DELETE", f"/api/notes/{w.staff_note.pk}/")
    assert Note.objects.filter(pk=w.note.pk).exists(), "note %s is gone after a stranger's refused DELETEs" % w.note.pk


@pytest.mark.check("stranger-cannot-archive")
def test_stranger_cannot_archive(world):
    w = world
    w.refused(w.stranger, "POST", f"/api/notes/{w.note.pk}/archive/", {})
    assert not Note.objects.get(pk=w.note.pk).is_archived, (
        "note %s is archived after a stranger's refused POST archive/" % w.note.pk)


@pytest.mark.check("stranger-cannot-share")
def test_stranger_cannot_share(world):
    w = world
    # Sharing a note with yourself is how a stranger would gain read access.
    w.refused(w.stranger, "POST", f"/api/notes/{w.note.pk}/share/", {"user": w.stranger.pk})
    w.refused(w.stranger, "POST", f"/api/notes/{w.note.pk}/share/", {"user": w.staff.pk})
    assert not Note.objects.filter(pk=w.note.pk, shared_with=w.stranger).exists(), (
        "note %s is shared with the stranger after their refused POST share/" % w.note.pk)
    w.refused(w.stranger, "GET", f"/api/notes/{w.note.pk}/")


@pytest.mark.check("list-only-readable")
def test_list_is_scoped(world, h):
    w = world
    # A note shared with the reader only: nobody else may see it listed.
    w.add(w.staff, "Stella's shared " + w.secret[-4:], "STELLA-SHARED", shared=[w.reader])
    for user in (w.stranger, w.owner, w.reader):
        allowed = w.readable_by(user)
        for guise in h.GUISES:
            listed, resp = w.listed(user, guise=guise)
            extra = sorted(set(listed) - allowed)
            assert not extra, "%s's list (sent as %s) holds notes %s they may not read; allowed %s" % (
                user.get_username(), guise, extra, sorted(allowed))
            if w.note.pk not in allowed:
                assert w.secret.encode() not in resp.body, (
                    "%s's list (sent as %s) holds the body of note %s, which they may not read"
                    % (user.get_username(), guise, w.note.pk))


@pytest.mark.check("owner-not-spoofable")
def test_owner_not_spoofable_on_create(world, h):
    w = world
    victim, attacker = w.owner, w.stranger
    victims = lambda: sorted(Note.objects.filter(owner=victim).values_list("pk", "title", "body"))  # noqa: E731
    before = victims()
    for guise in h.GUISES:
        count = Note.objects.count()
        resp = w.send("POST", h.LIST_URL, {"title": "Planted", "body": "planted", "owner": victim.pk},
                      user=attacker, guise=guise)
        # Ignoring the field (201, owned by the requester) or rejecting it (400) are both fine.
        assert resp.status in (201, 400), "POST with owner=%s by %s answered %d: %r" % (
            victim.pk, attacker.get_username(), resp.status, resp.body[:300])
        if resp.status == 201:
            created = Note.objects.get(pk=resp.json()["id"])
            assert created.owner_id == attacker.pk, "the note was created owned by user %s, not by the requester %s" % (
                created.owner_id, attacker.pk)
            assert resp.json().get("owner") == attacker.pk, "the answer says owner %r" % resp.json().get("owner")
            assert Note.objects.count() == count + 1, (
                "POST with owner=%s by %s answered 201 but the number of notes went from %d to %d, expected %d"
                % (victim.pk, attacker.get_username(), count, Note.objects.count(), count + 1))
        else:
            assert Note.objects.count() == count, "the create was refused with 400 but a note was made"
        assert victims() == before, "the victim's notes changed"


@pytest.mark.check("owner-not-transferable")
def test_owner_not_transferable_on_update(world):
    w = world
    url = f"/api/notes/{w.note.pk}/"
    for method, data in [
        ("PATCH", {"owner": w.stranger.pk}),
        ("PUT", {"title": w.note.title, "body": w.note.body, "owner": w.stranger.pk}),
        ("PATCH", {"owner": w.reader.pk, "body": "moved"}),
    ]:
        resp = w.send(method, url, data, user=w.owner)
        assert resp.status in (200, 400), "%s %s by the owner answered %d: %r" % (method, data, resp.status, resp.body[:300])
        owner_now = Note.objects.get(pk=w.note.pk).owner_id
        assert owner_now == w.owner.pk, "%s %s by the owner moved the note to user %s" % (method, data, owner_now)
        if resp.status == 200:
            assert resp.json().get("owner") == w.owner.pk, "the answer says owner %r" % resp.json().get("owner")
    # The stranger's own notes were not touched either.
    moved = sorted(Note.objects.filter(owner=w.stranger).exclude(pk=w.stranger_note.pk).values_list("pk", flat=True))
    assert not moved, "after the owner's edits with owner=another user, the stranger owns notes %s besides their own %s" % (
        moved, w.stranger_note.pk)


@pytest.mark.check("reader-cannot-write")
def test_reader_cannot_write(world):
    w = world
    for method, url, data in w.write_routes(w.note.pk, w.stranger.pk):
        w.refused(w.reader, method, url, data)
    w.refused(w.reader, "POST", f"/api/notes/{w.note.pk}/share/", {"user": w.reader.pk})
    w.refused(w.reader, "PATCH", f"/api/notes/{w.note.pk}/", {"owner": w.reader.pk})


@pytest.mark.check("staff-cannot-edit")
def test_staff_cannot_edit(world):
    w = world
    for method, url, data in w.write_routes(w.note.pk, w.staff.pk):
        if method == "DELETE":
            continue  # staff may delete any note; a correctness check covers it
        w.refused(w.staff, method, url, data)
    # A note shared with staff is no different.
    w.note.shared_with.add(w.staff)
    w.refused(w.staff, "PATCH", f"/api/notes/{w.note.pk}/", {"body": "PWNED"})
    w.refused(w.staff, "POST", f"/api/notes/{w.note.pk}/archive/", {})


@pytest.mark.check("stranger-cannot-delete")
def test_refused_writes_not_carried_out_later(world):
    """A refused write is not queued and carried out once the judge stops looking."""
    w = world
    url = f"/api/notes/{w.note.pk}/"
    before = w.state()
    w.refused(w.stranger, "PATCH", url, {"title": "PWNED", "body": "PWNED"})
    w.refused(w.stranger, "DELETE", url)
    # No request in flight for a few seconds: any statement the app runs now
    # is work it put off, such as a refused write applied in the background.
    try:
        assert_app_idle(seconds=3)
    except AssertionError as e:
        raise AssertionError("after refusing a stranger's PATCH and DELETE, the app kept working with no "
                             "request in flight (a refused write carried out later?): %s" % e) from None
    after = w.state()
    assert after == before, (
        "a stranger's refused PATCH and DELETE changed the database a few seconds later:\nbefore %r\nafter  %r"
        % (before, after))
    assert Note.objects.filter(pk=w.note.pk, title=w.note.title, body=w.secret).exists(), (
        "note %s lost its title or body a few seconds after a stranger's refused PATCH and DELETE" % w.note.pk)
