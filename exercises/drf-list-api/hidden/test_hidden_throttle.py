"""Hidden checks of the throttles: per user, per connection address, every request counted, Retry-After.

Budgets are 20/hour per signed-in user and 5/hour per anonymous address: a
check spends a budget in a few seconds, far inside the window, so a slow
machine cannot let the window run out under it.
"""

import pytest

from conftest import ANON_RATE, URL, USER_RATE, elsewhere


def spend(client, n, what, user=None, headers=None, url=URL):
    """spend sends n requests that must all be answered (not throttled)."""
    for i in range(n):
        r = client.get(url, user=user, headers=headers)
        assert r.status != 429, "%s: request %d of %d was answered 429, expected the budget to allow %d" % (
            what, i + 1, n, n)
        assert r.status in (200, 400), "%s: request %d (GET %s) answered %d, expected 200" % (what, i + 1, url, r.status)


def assert_throttled(client, what, user=None, headers=None):
    r = client.get(URL, user=user, headers=headers)
    assert r.status == 429, "%s answered %d, expected 429 (throttled)" % (what, r.status)
    return r


def assert_allowed(client, what, user=None, headers=None):
    r = client.get(URL, user=user, headers=headers)
    assert r.status == 200, "%s answered %d, expected 200 (its own budget is untouched)" % (what, r.status)


@pytest.mark.check("user-throttle")
def test_user_throttle(app, desk, addresses):
    desk.add(3)
    alice = desk.user()
    spend(app, USER_RATE, "a signed-in user's first %d requests" % USER_RATE, user=alice)
    assert_throttled(app, "the same user's request %d" % (USER_RATE + 1), user=alice)
    assert_throttled(elsewhere(addresses()), "the same user's next request, from another address", user=alice)


@pytest.mark.check("users-separate")
def test_users_separate(app, desk, addresses):
    desk.add(3)
    alice, bob = desk.user(), desk.user()
    spend(app, USER_RATE, "user A's first %d requests" % USER_RATE, user=alice)
    assert_throttled(app, "user A's request %d" % (USER_RATE + 1), user=alice)
    spend(app, USER_RATE, "user B's first %d requests, after user A was throttled" % USER_RATE, user=bob)
    assert_throttled(app, "user B's request %d" % (USER_RATE + 1), user=bob)
    assert_allowed(elsewhere(addresses()), "an anonymous request after both users were throttled")


@pytest.mark.check("anon-throttle")
def test_anon_throttle(app, desk, addresses):
    desk.add(3)
    first, second = elsewhere(addresses()), elsewhere(addresses())
    spend(first, ANON_RATE, "an anonymous address's first %d requests" % ANON_RATE)
    assert_throttled(first, "the same address's request %d" % (ANON_RATE + 1))
    spend(second, ANON_RATE, "another anonymous address's first %d requests" % ANON_RATE)
    assert_throttled(second, "that address's request %d" % (ANON_RATE + 1))
    assert_allowed(first, "a signed-in user's request from a throttled anonymous address", user=desk.user())


@pytest.mark.check("anon-not-forgeable")
def test_anon_not_forgeable(app, desk, addresses, rng):
    desk.add(3)
    home, other = addresses(), addresses()
    client = elsewhere(home)

    def forged():
        return {"X-Forwarded-For": "203.0.%d.%d" % (rng.randrange(256), rng.randrange(1, 255))}

    # Each request names another "client" in X-Forwarded-For: they all come from one address.
    for i in range(ANON_RATE):
        r = client.get(URL, headers=forged())
        assert r.status == 200, "anonymous request %d from one address answered %d, expected 200" % (i + 1, r.status)
    assert_throttled(client, "request %d from one address (its %d before each with a different X-Forwarded-For)"
                     % (ANON_RATE + 1, ANON_RATE))
    assert_throttled(client, "a request from the throttled address with a new X-Forwarded-For", headers=forged())
    assert_throttled(client, "a request from the throttled address with X-Forwarded-For listing two addresses",
                     headers={"X-Forwarded-For": "198.51.100.7, %s" % other})
    assert_allowed(elsewhere(other), "an anonymous request from another address naming the throttled one in "
                   "X-Forwarded-For", headers={"X-Forwarded-For": home})


@pytest.mark.check("failed-requests-count")
def test_failed_requests_count(app, desk, addresses):
    desk.add(3)
    carol = desk.user()
    for i in range(USER_RATE):
        url = URL + ("?priority=abc" if i % 2 else "?status=open")
        r = app.get(url, user=carol)
        assert r.status in (200, 400), "request %d (GET %s) answered %d, expected %s" % (
            i + 1, url, r.status, 400 if i % 2 else 200)
    assert_throttled(app, "a user's request %d (of the %d before, %d were answered 200 and %d 400)"
                     % (USER_RATE + 1, USER_RATE, USER_RATE // 2, USER_RATE // 2), user=carol)
    anon = elsewhere(addresses())
    for i in range(ANON_RATE):
        r = anon.get(URL + ("?ordering=internal_rank" if i < 3 else ""))
        assert r.status in (200, 400), "anonymous request %d answered %d" % (i + 1, r.status)
    assert_throttled(anon, "an anonymous address's request %d (of the %d before, 3 were answered 400 and 2 200)"
                     % (ANON_RATE + 1, ANON_RATE))


def assert_retry_after(r, what):
    value = r.headers.get("retry-after")
    assert value is not None, "%s: the 429 has no Retry-After header" % what
    assert value.strip().isdigit() and 0 < int(value) <= 3600, (
        "%s: Retry-After is %r, expected a whole number of seconds between 1 and 3600" % (what, value))


@pytest.mark.check("retry-after")
def test_retry_after(app, desk, addresses):
    desk.add(3)
    dave = desk.user()
    spend(app, USER_RATE, "a signed-in user's first %d requests" % USER_RATE, user=dave)
    assert_retry_after(assert_throttled(app, "the user's request %d" % (USER_RATE + 1), user=dave), "a throttled user")
    anon = elsewhere(addresses())
    spend(anon, ANON_RATE, "an anonymous address's first %d requests" % ANON_RATE)
    assert_retry_after(assert_throttled(anon, "the address's request %d" % (ANON_RATE + 1)), "a throttled address")


@pytest.mark.check("throttle-shared")
def test_throttle_shared(app, desk, addresses, served):
    """Budgets live in the shared cache: every worker sees them, and a restart of the server does not reset them.

    Which of gunicorn's workers answers a request is the kernel's choice, so
    a budget kept in a worker's memory cannot be caught reliably by counting
    alone; a restart empties every worker's memory, deterministically.
    """
    desk.add(3)
    erin = desk.user()
    spend(app, USER_RATE, "a signed-in user's first %d requests" % USER_RATE, user=erin)
    anon = elsewhere(addresses())
    spend(anon, ANON_RATE, "an anonymous address's first %d requests" % ANON_RATE)
    served.stop()
    served.serve()
    assert_throttled(app, "the user's request %d (sent after the server was restarted)" % (USER_RATE + 1), user=erin)
    assert_throttled(anon, "the address's request %d (sent after the server was restarted)" % (ANON_RATE + 1))
