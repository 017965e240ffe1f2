"""Public tests for the notes API and its single-page app. Run them with: python3 -m pytest tests

The client below behaves like the SPA's browser: it talks to
https://api.example.test, keeps cookies and sends the SPA's Origin. Some of
these tests fail on the code you were given; making them pass is part of
the task, but not all of it.
"""
import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from notes.models import Note

pytestmark = pytest.mark.django_db

SPA = "https://app.example.test"


@pytest.fixture
def alice():
    return get_user_model().objects.create_user("alice", password="pw")


def browser():
    # enforce_csrf_checks: Django's test client skips CSRF checks unless asked.
    return Client(enforce_csrf_checks=True, HTTP_HOST="api.example.test", HTTP_X_FORWARDED_PROTO="https")


def spa_headers(token=None):
    headers = {"HTTP_ORIGIN": SPA, "HTTP_REFERER": SPA + "/"}
    if token is not None:
        headers["HTTP_X_CSRFTOKEN"] = token
    return headers


def csrf_token(client):
    resp = client.get("/api/csrf/", **spa_headers())
    assert resp.status_code == 200, resp.content
    return resp.json()["csrfToken"]


def log_in(client, user):
    resp = client.post("/api/auth/login/", {"username": user.username, "password": "pw"},
                       content_type="application/json", **spa_headers(csrf_token(client)))
    assert resp.status_code == 200, resp.content
    return csrf_token(client)


def test_anonymous_cannot_list_notes():
    assert browser().get("/api/notes/", **spa_headers()).status_code == 403


def test_spa_logs_in_and_creates_a_note(alice):
    client = browser()
    token = log_in(client, alice)
    resp = client.post("/api/notes/", {"title": "Groceries", "body": "eggs"},
                       content_type="application/json", **spa_headers(token))
    assert resp.status_code == 201, resp.content
    assert Note.objects.get(pk=resp.json()["id"]).owner == alice
    assert resp["Access-Control-Allow-Origin"] == SPA
    assert resp["Access-Control-Allow-Credentials"] == "true"


def test_spa_preflight_is_approved():
    resp = browser().options("/api/notes/", HTTP_ORIGIN=SPA, HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
                             HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type,x-csrftoken")
    assert 200 <= resp.status_code <= 299
    assert resp["Access-Control-Allow-Origin"] == SPA
    allowed = [h.strip().lower() for h in resp["Access-Control-Allow-Headers"].split(",")]
    assert "x-csrftoken" in allowed and "content-type" in allowed


def test_post_without_token_is_refused(alice):
    client = browser()
    log_in(client, alice)
    resp = client.post("/api/notes/", {"title": "x", "body": "y"}, content_type="application/json",
                       **spa_headers())
    assert resp.status_code == 403
    assert not Note.objects.exists()


def test_other_origins_get_no_cors_approval():
    resp = browser().get("/api/csrf/", HTTP_ORIGIN="https://evil.example")
    assert "Access-Control-Allow-Origin" not in resp
