"""Hidden checks of the request-id and timing middleware, over HTTP and on the app's log stream."""

import threading
import time

import pytest

from conftest import API_KEY, LB, PING_RECORDS, assert_records, client, request_id, server_timing


def every_kind(ref):
    """every_kind is one request of each kind the prompt names: (what, path, headers, expected status)."""
    return [
        ("a view's answer", "/api/ping/%s/" % ref("ok"), {}, 200),
        ("a path no URL matches", "/api/nowhere/%s/" % ref("nf"), {}, 404),
        ("a view that raises", "/api/boom/%s/" % ref("bm"), {}, 500),
        ("the API-key middleware's refusal", "/api/private/%s/" % ref("pk"), {}, 401),
        ("CommonMiddleware's slash redirect", "/api/ping/%s" % ref("sl"), {}, 301),
        ("a partner's request", "/api/private/%s/" % ref("pa"), {"X-Api-Key": API_KEY}, 200),
    ]


@pytest.mark.check("header-everywhere")
def test_header_everywhere(ref):
    seen = {}
    for what, path, headers, status in every_kind(ref):
        r = client().get(path, headers=headers)
        assert r.status == status, "GET %s (%s) answered %d, expected %d" % (path, what, r.status, status)
        rid = request_id(r, "GET %s (%s)" % (path, what))
        assert rid not in seen, "%s and %s answered with the same X-Request-ID %r" % (seen.get(rid), what, rid)
        seen[rid] = what


@pytest.mark.check("generated-unique")
def test_generated_unique(ref, addresses):
    seen = {}
    for i in range(40):
        source = None if i % 2 else addresses()
        r = client(source).get("/api/ping/%s/" % ref("u"))
        rid = request_id(r, "request %d without an X-Request-ID" % (i + 1))
        assert rid not in seen, "requests %d and %d were given the same id %r" % (seen[rid], i + 1, rid)
        seen[rid] = i + 1


@pytest.mark.check("trusted-id-kept")
def test_trusted_id_kept(ref, logs, rng):
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"
    given = ["lb-%08x" % rng.getrandbits(32), "".join(rng.choice(alphabet) for _ in range(8)),
             "".join(rng.choice(alphabet) for _ in range(64)), "%032x" % rng.getrandbits(128),
             "%08x-%04x-4%03x-a%03x-%012x" % tuple(rng.getrandbits(b) for b in (32, 16, 12, 12, 48))]
    for rid in given:
        r_ = ref("t")
        r = client(LB).get("/api/ping/%s/" % r_, headers={"X-Request-ID": rid})
        assert r.headers.get("x-request-id") == rid, (
            "the load balancer (%s) sent X-Request-ID %r; the app answered with %r, expected the same id"
            % (LB, rid, r.headers.get("x-request-id")))
        assert_records(logs, r_, rid, PING_RECORDS, "a request with the load balancer's id %r" % rid)


@pytest.mark.check("untrusted-id-replaced")
def test_untrusted_id_replaced(ref, logs, addresses, rng):
    cases = [
        ("a client connecting directly", {}),
        ("a client claiming the load balancer in X-Forwarded-For", {"X-Forwarded-For": LB}),
        ("a client claiming the load balancer in X-Real-IP and Forwarded",
         {"X-Real-IP": LB, "Forwarded": "for=%s" % LB}),
    ]
    for what, extra in cases:
        forged = "lb-%012x" % rng.getrandbits(48)
        r_ = ref("x")
        source = addresses()
        r = client(source).get("/api/ping/%s/" % r_, headers=dict(extra, **{"X-Request-ID": forged}))
        rid = request_id(r, "%s (%s)" % (what, source))
        assert rid != forged, ("%s (%s) sent X-Request-ID %r and the app used it; only the load balancer (%s) may "
                               "set the id" % (what, source, forged, LB))
        assert_records(logs, r_, rid, PING_RECORDS, "%s with a forged id" % what)


@pytest.mark.check("invalid-id-replaced")
def test_invalid_id_replaced(ref, logs, rng):
    bad = [
        ("7 characters", "ab-1234"),
        ("65 characters", "a" * 65),
        ("4000 characters", "b" * 4000),
        ("a space", "lb-1234 5678"),
        ("markup", "<script>alert(1)</script>"),
        ("a dot and slashes", "../../etc/passwd"),
        ("a quote and a semicolon", 'lb-1234";x=1'),
        ("a non-ASCII letter", "lb-12345\u00e9"),
        ("only spaces", " " * 12),
    ]
    rng.shuffle(bad)
    for what, value in bad:
        r_ = ref("i")
        r = client(LB).get("/api/ping/%s/" % r_, headers={"X-Request-ID": value})
        rid = request_id(r, "the load balancer's request with an X-Request-ID of %s" % what)
        assert rid != value.strip(), ("the load balancer sent an X-Request-ID of %s (%r), which breaks the rule; "
                                      "the app used it instead of making a new id" % (what, value[:60]))
        assert_records(logs, r_, rid, PING_RECORDS, "a request with an invalid id (%s)" % what)


@pytest.mark.check("logs-carry-id")
def test_logs_carry_id(ref, logs, addresses):
    for source, ms in ((None, 0), (addresses(), 30), (LB, 5)):
        r_ = ref("l")
        r = client(source).get("/api/ping/%s/?ms=%d" % (r_, ms))
        assert r.status == 200, "GET /api/ping/ answered %d, expected 200" % r.status
        rid = request_id(r, "GET /api/ping/%s/" % r_)
        assert_records(logs, r_, rid, PING_RECORDS, "the ping view's records (orders.views, orders.services)")


@pytest.mark.check("logs-outside-views")
def test_logs_outside_views(ref, logs):
    r_ = ref("k")
    r = client().get("/api/private/%s/" % r_, headers={"X-Api-Key": "pk-live-000000000000"})
    assert r.status == 401, "a request with a wrong API key answered %d, expected 401" % r.status
    rid = request_id(r, "the API-key middleware's 401")
    assert_records(logs, r_, rid, 1, "the API-key middleware's record of the refusal (storefront.apikey)",
                   loggers={"storefront.apikey"})
    r_ = ref("b")
    r = client().get("/api/boom/%s/" % r_)
    assert r.status == 500, "GET /api/boom/ answered %d, expected 500" % r.status
    rid = request_id(r, "a view's unhandled exception")
    # "about to fail <ref>" from the view, and Django's "Internal Server Error: /api/boom/<ref>/".
    assert_records(logs, r_, rid, 2, "the failing view's record and Django's error record (django.request)",
                   loggers={"orders.views", "django.request"})


@pytest.mark.check("concurrent")
def test_concurrent(ref, logs, addresses):
    n = 24
    refs = [ref("c") for _ in range(n)]
    answers = [None] * n
    errors = []
    start = threading.Barrier(n)

    def one(i):
        try:
            start.wait(10)
            answers[i] = client(addresses() if i % 3 == 0 else None).get("/api/ping/%s/?ms=150" % refs[i])
        except Exception as e:  # noqa: BLE001 - reported below as the check's failure
            errors.append(e)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, "concurrent requests failed: %s" % errors[0]
    ids = {}
    for i, r in enumerate(answers):
        assert r is not None and r.status == 200, "concurrent request %d answered %s" % (i + 1, r and r.status)
        rid = request_id(r, "concurrent request %d" % (i + 1))
        assert rid not in ids, "concurrent requests %d and %d were given the same id %r" % (ids[rid], i + 1, rid)
        ids[rid] = i + 1
    for i, r in enumerate(answers):
        assert_records(logs, refs[i], r.headers["x-request-id"], PING_RECORDS,
                       "concurrent request %d of %d (150 ms each)" % (i + 1, n))


@pytest.mark.check("server-timing")
def test_server_timing(ref):
    for ms in (0, 120, 250):
        path = "/api/ping/%s/?ms=%d" % (ref("s"), ms)
        began = time.monotonic()
        r = client().get(path)
        elapsed = (time.monotonic() - began) * 1000
        dur = server_timing(r, "GET %s" % path)
        assert dur >= ms, ("GET %s (a view that takes %d ms) answered Server-Timing total;dur=%s, expected at least %d "
                           "(milliseconds)" % (path, ms, dur, ms))
        assert dur <= elapsed + 1, ("GET %s answered Server-Timing total;dur=%s, more than the %.1f ms the whole "
                                    "exchange took on the judge's side" % (path, dur, elapsed))
    for what, path, headers, status in every_kind(ref):
        r = client().get(path, headers=headers)
        assert r.status == status, "GET %s (%s) answered %d, expected %d" % (path, what, r.status, status)
        server_timing(r, "GET %s (%s)" % (path, what))
