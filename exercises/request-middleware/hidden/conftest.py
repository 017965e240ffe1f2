"""Fixtures of the hidden checks: the candidate's project served, and the log collector it ships to.

The judge is the log collector of storefront/logship.py: it listens on
127.0.0.1:5170 before the candidate's server starts, and every gunicorn
worker connects to it and sends one JSON line per record. The lines are the
candidate's (their process writes them); the judge reads them as data only
(size-capped JSON, never unpickled or evaluated) and ties records to
requests by the random ref each request carries in its path, which the
views log.

Ids are checked against the prompt's rule; trust is checked by sending
from 127.0.0.1 (the load balancer, in TRUSTED_PROXIES) and from other
loopback addresses (clients that reach the app directly).
"""

import json
import re
import socket
import threading
import time

import pytest
from djgrade_judge import APP_PORT, App

COLLECTOR = ("127.0.0.1", 5170)
LINE_CAP = 64 << 10
RECORD_CAP = 50_000
PATIENCE = 10.0       # seconds to wait for a request's records
SHORT_PATIENCE = 2.0  # once a wait has run out
VALID = re.compile(r"[A-Za-z0-9_-]{8,64}")
TIMING = re.compile(r"(?:^|,)\s*total\s*;(?:[^,]*;)?\s*dur=\"?([0-9]+(?:\.[0-9]+)?)\"?", re.I)
API_KEY = "pk-live-6f1c2a9e4b7d"
LB = "127.0.0.1"
# Records each endpoint logs with the request's ref in the message.
PING_RECORDS = 3      # orders.views "quote requested", orders.services "pricing", orders.views "quote sent"


class Collector:
    """Collector accepts the app's log connections and keeps every record it parses."""

    def __init__(self):
        self.records = []
        self.patience = PATIENCE
        self.cond = threading.Condition()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.sock.bind(COLLECTOR)
        except OSError as e:
            raise AssertionError("the judge could not listen for the app's logs on %s:%d (%s): something in the "
                                 "candidate's container holds the port" % (COLLECTOR + (e,))) from None
        self.sock.listen(64)
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._read, args=(conn,), daemon=True).start()

    def _read(self, conn):
        buf = b""
        with conn:
            while True:
                try:
                    chunk = conn.recv(1 << 16)
                except OSError:
                    return
                if not chunk:
                    return
                buf += chunk
                *lines, buf = buf.split(b"\n")
                if len(buf) > LINE_CAP:
                    buf = b""
                for line in lines:
                    self._add(line)

    def _add(self, line):
        if len(line) > LINE_CAP:
            return
        try:
            rec = json.loads(line)
        except (ValueError, RecursionError):
            return
        if not isinstance(rec, dict) or not isinstance(rec.get("message"), str):
            return
        with self.cond:
            if len(self.records) < RECORD_CAP:
                self.records.append(rec)
                self.cond.notify_all()

    def about(self, ref, n, timeout=None, loggers=None):
        """about waits until n records mention ref (or timeout) and returns those there are.

        Records are shipped before the answer is sent, so they are normally
        here at once; the first wait that runs out shortens the later ones,
        so that a project that ships nothing cannot run the judge out of time.
        """
        if timeout is None:
            timeout = self.patience
        end = time.monotonic() + timeout
        with self.cond:
            while True:
                mine = [r for r in self.records if ref in r["message"] and (loggers is None or r.get("logger") in loggers)]
                left = end - time.monotonic()
                if len(mine) >= n:
                    return mine
                if left <= 0:
                    self.patience = SHORT_PATIENCE
                    return mine
                self.cond.wait(left)


@pytest.fixture(scope="session")
def logs():
    return Collector()


@pytest.fixture(scope="session", autouse=True)
def served(candidate, logs):
    result = candidate.manage("migrate", "--noinput")
    assert result.ok, "migrate failed in the candidate's project:\n%s" % result.output
    candidate.serve()
    return candidate


class Refs:
    """Refs hands out random refs (slugs) no other request of this run uses."""

    def __init__(self, rng):
        self.rng = rng

    def __call__(self, what="r"):
        return "%s%012x" % (what, self.rng.getrandbits(48))


@pytest.fixture
def ref(rng):
    return Refs(rng)


class Addresses:
    """Addresses hands out loopback addresses other than the load balancer's."""

    def __init__(self, rng):
        self.rng = rng

    def __call__(self):
        return "127.%d.%d.%d" % (self.rng.randrange(1, 255), self.rng.randrange(0, 256), self.rng.randrange(2, 255))


@pytest.fixture
def addresses(rng):
    return Addresses(rng)


def client(source=None):
    """client is an HTTP client of the app; source None is the load balancer (127.0.0.1)."""
    return App(APP_PORT, source=source)


def request_id(r, what):
    """request_id is the response's X-Request-ID, which must follow the prompt's rule."""
    rid = r.headers.get("x-request-id")
    assert rid is not None, "%s answered %d without an X-Request-ID header" % (what, r.status)
    assert VALID.fullmatch(rid), ("%s answered with X-Request-ID %r, expected 8 to 64 letters, digits, '-' or '_'"
                                  % (what, rid[:100]))
    return rid


def server_timing(r, what):
    """server_timing is the total;dur of the response's Server-Timing header, in milliseconds."""
    value = r.headers.get("server-timing")
    assert value is not None, "%s answered %d without a Server-Timing header" % (what, r.status)
    m = TIMING.search(value)
    assert m, "%s answered with Server-Timing %r, expected a metric total with dur in milliseconds" % (what, value[:200])
    return float(m.group(1))


def assert_records(logs, ref, rid, n, what, loggers=None):
    """assert_records waits for the n records that mention ref (of those loggers, when given) and checks
    that each carries rid.

    Django logs a 4xx that a middleware or view *returns* (django.request's
    "Unauthorized: ...") after the whole middleware chain has answered,
    outside every middleware: the prompt does not ask for that record, and
    only the named loggers are read where it would appear.
    """
    mine = logs.about(ref, n, loggers=loggers)
    assert len(mine) >= n, ("%s: the log collector received %d record(s) mentioning the request, expected %d; "
                            "keep the collector handler on the root logger" % (what, len(mine), n))
    wrong = [r for r in mine if r.get("request_id") != rid]
    assert not wrong, ("%s: %d of %d records carry another request_id than the response's %r, e.g. %s record %r "
                       "with request_id %r" % (what, len(wrong), len(mine), rid, wrong[0].get("logger"),
                                               wrong[0]["message"][:120], wrong[0].get("request_id")))
