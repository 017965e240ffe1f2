"""Hidden checks of the list itself: pages, orderings, filters, the allowlist, the query count."""

import base64
import datetime
import urllib.parse

import pytest

from conftest import CACHE_TABLE, ORDERINGS, PAGE_SIZE, URL, assert_walk, fetch, first_difference, list_url, walk


@pytest.mark.check("walk-default")
def test_walk_default(app, desk):
    reader = desk.user()
    body = fetch(app, URL, reader)
    assert body["results"] == [] and body["next"] is None, (
        "with no tickets the list answered %d results and next %r, expected no results and next null"
        % (len(body["results"]), body["next"]))
    desk.add(27)
    assert_walk(app, reader, desk, {})


@pytest.mark.check("walk-orderings")
def test_walk_orderings(app, desk):
    desk.add(33)
    for ordering in ORDERINGS:
        assert_walk(app, desk.user(), desk, {"ordering": ordering})


@pytest.mark.check("stable-under-inserts")
def test_stable_under_inserts(app, desk, rng):
    desk.add(26)
    for ordering, (key, descending) in ORDERINGS.items():
        before = set(desk.tickets)

        def insert(page):
            # One ticket that sorts before everything listed so far (for id
            # ascending a new id always sorts last), one anywhere in between.
            if key == "created_at":
                edge = desk.newest() if descending else desk.oldest()
                step = datetime.timedelta(minutes=rng.randint(1, 90), microseconds=rng.randrange(1, 10 ** 6))
                desk.add(1, at=lambda: edge + step if descending else edge - step)
            else:
                desk.add(1)
            desk.add(1)

        pages = walk(app, desk.user(), {"ordering": ordering}, between=insert)
        seen = [t for page in pages for t in page]
        ids = [t.get("id") for t in seen]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        assert not twice, ("ordering=%s, walking the pages while tickets were added: tickets %s were listed twice "
                           "(pages of %s tickets)" % (ordering, twice, [len(p) for p in pages]))
        missing = sorted(before - set(ids))
        assert not missing, ("ordering=%s, walking the pages while tickets were added: tickets %s, there before the "
                             "walk began, were never listed" % (ordering, missing))
        for t in seen:
            want = desk.public(desk.tickets[t["id"]]) if t.get("id") in desk.tickets else None
            assert t == want, first_difference(t, want, "ordering=%s, ticket %s" % (ordering, t.get("id")))
        order = [desk.tickets[i]["_created"] if key == "created_at" else i for i in ids]
        assert order == sorted(order, reverse=descending), (
            "ordering=%s, walking the pages while tickets were added: the tickets came out of order: %s"
            % (ordering, ids))


@pytest.mark.check("filters")
def test_filters(app, desk):
    desk.add(30)
    desk.add(12, status="open", priority=2)
    for params in [{"status": "open"}, {"priority": "2"}, {"status": "open", "priority": "2", "ordering": "id"},
                   {"status": "pending", "ordering": "created_at"}, {"priority": "4", "ordering": "-id"},
                   {"status": "closed", "priority": "3"}]:
        filters = {k: (int(v) if k == "priority" else v) for k, v in params.items() if k != "ordering"}
        want = desk.expected(params.get("ordering", "-created_at"), **filters)
        got = [t for page in walk(app, desk.user(), params) for t in page]
        assert got == want, first_difference(got, want, "the list %s, all pages together" % params)


def assert_refused(app, desk, queries, what):
    """assert_refused sends each query string and expects 400 (or one of `allowed` given with it)."""
    reader = None
    for i, (query, allowed) in enumerate(queries):
        if i % 8 == 0:
            reader = desk.user()
        url = URL + "?" + query
        r = app.get(url, user=reader)
        assert r.status in allowed, "%s: GET %s answered %d, expected %s" % (
            what, url, r.status, " or ".join(map(str, allowed)))


@pytest.mark.check("filter-allowlist")
def test_filter_allowlist(app, desk):
    desk.add(14)
    some = next(iter(desk.tickets))
    queries = ["internal_rank=%d" % desk.tickets[some]["_rank"], "internal_rank__gt=0", "title=Printer",
               "assignee=%d" % desk.agents[0].pk, "assignee__username=%s" % desk.agents[0].username,
               "status__in=open", "priority__gte=2", "id=%d" % some, "created_at__gt=2024-01-01",
               "foo=bar", "page_size=50", "limit=5", "search=vpn", "status=open&internal_rank=3",
               "priority=2&sort=title"]
    assert_refused(app, desk, [(q, (400,)) for q in queries], "a parameter outside the allowlist")
    # Every parameter at most once: a filter, and every parameter of a real next link, given twice.
    reader = desk.user()
    link = fetch(app, list_url({"ordering": "id"}), reader)["next"]
    assert link, "ordering=id over 14 tickets answered no next link, expected one"
    query = urllib.parse.urlsplit(link).query
    assert_refused(app, desk, [("status=open&status=closed", (400,)), ("%s&%s" % (query, query), (400,))],
                   "a parameter given twice")


@pytest.mark.check("ordering-allowlist")
def test_ordering_allowlist(app, desk):
    desk.add(14)
    queries = ["ordering=internal_rank", "ordering=-internal_rank", "ordering=title", "ordering=-priority",
               "ordering=status", "ordering=assignee__username", "ordering=created_at,id", "ordering=-created_at,internal_rank",
               "ordering=pk", "ordering=?", "status=open&ordering=internal_rank", "ordering=created_at&ordering=internal_rank"]
    assert_refused(app, desk, [(q, (400,)) for q in queries], "an ordering outside the allowlist")


def drf_cursor(position):
    return urllib.parse.quote(base64.b64encode(("o=0&p=%s" % position).encode()).decode(), safe="")


@pytest.mark.check("bad-values-400")
def test_bad_values(app, desk):
    desk.add(14)
    queries = [("priority=abc", (400,)), ("priority=0", (400,)), ("priority=9", (400,)), ("priority=2.0", (400,)),
               ("status=archived", (400,)), ("status=OPEN", (400,)),
               # exact values only: no int() leniency, no empty value taken as "no filter"
               ("priority=02", (400,)), ("priority=", (400,)), ("status=", (400,)),
               ("cursor=not-a-cursor", (400, 404)),
               # a cursor in DRF's own format whose position is no time / no id
               ("cursor=%s" % drf_cursor("not-a-time"), (400, 404)),
               ("ordering=id&cursor=%s" % drf_cursor("abc"), (400, 404)),
               # cursors that decode to no position at all: empty, base64 of "foo", DRF's format with an offset only
               ("cursor=", (400, 404)), ("cursor=Zm9v", (400, 404)),
               ("cursor=%s" % urllib.parse.quote(base64.b64encode(b"o=3").decode(), safe=""), (400, 404))]
    assert_refused(app, desk, queries, "a value outside the allowed ones")


@pytest.mark.check("queries-constant")
def test_queries_constant(app, app_queries, desk):
    reader = desk.user()
    # Both tickets of the small page have an assignee: prefetch_related issues no query for a page
    # of unassigned tickets, which would make a correct answer's count look like it grows.
    desk.add(1, assignee=desk.agents[0])
    desk.add(1, assignee=desk.agents[1])
    fetch(app, URL, reader)  # the throttle's first write for this user is not measured

    def measured():
        with app_queries() as q:
            body = fetch(app, URL, reader)
        want = desk.expected()[:PAGE_SIZE]
        assert body["results"] == want, first_difference(body["results"], want, "page 1")
        own = sum(n for n, text in q.statements if CACHE_TABLE not in text)
        return q, own

    small, small_own = measured()
    desk.add(38)
    large, large_own = measured()
    assert large.count == small.count, (
        "a page of 2 tickets ran %d statements, a page of %d ran %d: the count grows with the page\n%s"
        % (small.count, PAGE_SIZE, large.count, large.describe()))
    assert large_own <= 3, ("a page of %d tickets ran %d statements besides the throttle cache's, expected at most 3\n%s"
                            % (PAGE_SIZE, large_own, large.describe()))
    assert large.count - large_own <= 8, ("the throttle cache ran %d statements for one request, expected at most 8\n%s"
                                          % (large.count - large_own, large.describe()))
