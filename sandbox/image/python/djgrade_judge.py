"""pytest plugin of djgrade's judge: hidden checks that observe from outside.

It runs only in the judge's container (djgrade_judge_init.py), over the
exercise's untouched starter and its hidden checks; no candidate code is
ever imported here. A hidden check is a pytest-django test that

  * seeds and inspects the shared PostgreSQL database through the ORM, as
    the judge's superuser, with the exercise's own (trusted) models;
  * calls the candidate's project over HTTP (the ``app`` fixture), which
    gunicorn serves in the candidate's container;
  * runs the candidate's management commands there (``candidate.manage``),
    believing only their effect on the database;
  * counts the statements the app's database role ran, from the server's
    own accounting (``app_queries``, read from pg_stat_statements).

Each hidden test carries ``@pytest.mark.check("check-id")``; the points,
category and published name of a check live in the exercise's manifest,
which the grader reads on the host. Every hidden test runs with
``django_db(transaction=True)`` so that what it writes is committed and
visible to the app, and the database is flushed after it.

The report (--djgrade-report) lists, per check id, its outcome, duration,
a message for staff and the statement count of the last measured block.
"""

import base64
import contextlib
import http.client
import json
import os
import random
import re
import socket
import threading
import time
import zlib

import pytest

REPORT_VERSION = 2
MESSAGE_CAP = 4096
BODY_CAP = 4 << 20
REQUEST_TIMEOUT = 30.0
WARM_UP_TIMEOUT = 60.0
APP_HOST = "127.0.0.1"
APP_PORT = int(os.environ.get("DJGRADE_APP_PORT", "8000"))
HOST_HEADER = "testserver"
APP_ROLE = "app"

# Transaction control and session settings are not work the app asked of
# the database; everything else, utility statements included, counts.
# Django sets the connection's time zone with set_config; only that exact
# normalised form is left out (a set_config fed by a subquery counts).
_NOISE = re.compile(
    r"^\s*(BEGIN|START\s+TRANSACTION|COMMIT|END|ROLLBACK|ABORT|SAVEPOINT|RELEASE|SET|RESET|DISCARD|DEALLOCATE|CLOSE)\b"
    r"|^SELECT set_config\(\$1, \$2, \$3\)$",
    re.IGNORECASE,
)


def _deadline():
    try:
        return float(os.environ.get("DJGRADE_DEADLINE", ""))
    except ValueError:
        return time.time() + 120


def seed():
    """seed is the run's recorded random seed."""
    return int(os.environ.get("DJGRADE_SEED", "0") or 0)


class AppError(AssertionError):
    """The app's answer could not be read (too big, too slow, malformed)."""


class Response:
    """Response is one answer of the candidate's app."""

    def __init__(self, method, path, status, headers, body):
        self.method, self.path = method, path
        self.status = self.status_code = status
        self.headers = headers
        self.body = self.content = body

    def json(self):
        try:
            return json.loads(self.body)
        except (ValueError, RecursionError) as e:
            raise AppError("%s %s answered %d with a body that is not JSON (%s): %r"
                           % (self.method, self.path, self.status, e, self.body[:200])) from None

    def __repr__(self):
        return "<Response %s %s -> %d, %d bytes>" % (self.method, self.path, self.status, len(self.body))


def _credentials(user):
    if user is None:
        return None
    if isinstance(user, tuple):
        name, password = user
    else:
        name, password = user.get_username(), getattr(user, "raw_password", None)
        if password is None:
            raise ValueError("user %r was not made by make_user: its password is unknown" % name)
    return "Basic " + base64.b64encode(("%s:%s" % (name, password)).encode()).decode()


class App:
    """App is an HTTP client of the candidate's project.

    Every request is a new connection with its own deadline; bodies are
    capped; redirects are answers, never followed. ``user`` is a user made
    by ``make_user`` (or a (username, password) pair) and is sent with
    Basic authentication. ``App(port, source="127.0.0.2")`` sends from
    another loopback address.
    """

    def __init__(self, port, source=None):
        self.port = port
        # source is the loopback address requests come from (default
        # 127.0.0.1): an app that applies its rules only to requests from
        # one address is caught by sending the same request from another.
        self.source = source

    def request(self, method, path, json_body=None, data=None, user=None, headers=None, timeout=REQUEST_TIMEOUT):
        hdrs = {"Host": HOST_HEADER, "Accept": "application/json", "Connection": "close"}
        body = None
        if json_body is not None:
            body = json.dumps(json_body).encode()
            hdrs["Content-Type"] = "application/json"
        elif data is not None:
            body = data if isinstance(data, bytes) else str(data).encode()
        auth = _credentials(user)
        if auth:
            hdrs["Authorization"] = auth
        hdrs.update(headers or {})
        timeout = max(0.5, min(timeout, _deadline() - time.time()))
        conn = http.client.HTTPConnection(APP_HOST, self.port, timeout=timeout,
                                          source_address=(self.source, 0) if self.source else None)
        watchdog = threading.Timer(timeout, self._abort, args=(conn,))
        watchdog.daemon = True
        watchdog.start()
        try:
            conn.request(method, path, body=body, headers=hdrs)
            resp = conn.getresponse()
            chunks, n = [], 0
            while True:
                chunk = resp.read1(1 << 16) if hasattr(resp, "read1") else resp.read(1 << 16)
                if not chunk:
                    break
                n += len(chunk)
                if n > BODY_CAP:
                    raise AppError("%s %s answered with more than %d bytes" % (method, path, BODY_CAP))
                chunks.append(chunk)
            headers_out = {k.lower(): v for k, v in resp.getheaders()}
            return Response(method, path, resp.status, headers_out, b"".join(chunks))
        except AppError:
            raise
        except (OSError, http.client.HTTPException, ValueError) as e:
            if not watchdog.is_alive():
                raise AppError("%s %s got no complete answer within %.0fs" % (method, path, timeout)) from None
            raise AppError("%s %s: the app's answer could not be read: %s: %s"
                           % (method, path, type(e).__name__, e)) from None
        finally:
            watchdog.cancel()
            conn.close()

    @staticmethod
    def _abort(conn):
        sock = conn.sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def head(self, path, **kw):
        return self.request("HEAD", path, **kw)

    def options(self, path, **kw):
        return self.request("OPTIONS", path, **kw)

    def post(self, path, json=None, **kw):
        return self.request("POST", path, json_body=json, **kw)

    def put(self, path, json=None, **kw):
        return self.request("PUT", path, json_body=json, **kw)

    def patch(self, path, json=None, **kw):
        return self.request("PATCH", path, json_body=json, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)


def freeze_schema(models=None):
    """freeze_schema takes the schema away from the app once it is migrated.

    The app's role owns the tables its migrations created, so its code
    could rewrite them under the judge (rules that change the judge's
    writes, a view in place of a table). After the candidate's migrate,
    the judge drops every rule in the public schema, checks that the
    tables of the judge's models are plain tables, takes ownership of
    every relation, and gives the app back only reading and writing rows.
    Call it from the session fixture that migrates, before serving.
    """
    from django.apps import apps
    from django.db import connection

    problems = []
    with connection.cursor() as cur:
        cur.execute("SELECT rulename, tablename FROM pg_rules WHERE schemaname = 'public'")
        for rule, table in cur.fetchall():
            problems.append("rule %s on %s" % (rule, table))
            cur.execute('DROP RULE "%s" ON "%s"' % (rule.replace('"', '""'), table.replace('"', '""')))
        wanted = [m._meta.db_table for m in (models or apps.get_models()) if m._meta.managed and not m._meta.proxy]
        cur.execute(
            "SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relname = ANY(%s)", (wanted,))
        kinds = dict(cur.fetchall())
        for table in wanted:
            if kinds.get(table, "r") not in ("r", "p"):
                problems.append("%s is not a table (relkind %s)" % (table, kinds[table]))
        # Tables first: a sequence that belongs to a column follows its table.
        for kinds_sql in ("('r', 'p', 'v', 'm', 'f')", "('S')"):
            cur.execute(
                "SELECT c.relname, c.relkind, pg_get_userbyid(c.relowner) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'public' AND c.relkind IN " + kinds_sql)
            for name, kind, owner in cur.fetchall():
                q = '"%s"' % name.replace('"', '""')
                if kind == "S":
                    if owner != "judge":
                        cur.execute("ALTER SEQUENCE %s OWNER TO judge" % q)
                    cur.execute("GRANT USAGE, SELECT, UPDATE ON SEQUENCE %s TO app" % q)
                else:
                    cur.execute("ALTER TABLE %s OWNER TO judge" % q)
                    cur.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON %s TO app" % q)
        cur.execute("REVOKE CREATE ON SCHEMA public FROM app")
    assert not problems, "the candidate's code changed the schema under the judge: " + "; ".join(problems)


class CommandResult:
    """CommandResult is what the candidate's container said of a command.

    It comes from the candidate's side, so it is a hint for messages only:
    checks look at the database to see what a command did.
    """

    def __init__(self, args, exit_code, output):
        self.args, self.exit_code, self.output = args, exit_code, output

    @property
    def ok(self):
        return self.exit_code == 0

    def __repr__(self):
        return "<manage.py %s: exit %s>" % (" ".join(self.args), self.exit_code)


class Candidate:
    """Candidate drives the agent in the candidate's container."""

    def __init__(self, port):
        self.port = port

    def _call(self, path, payload=None, timeout=60.0):
        timeout = max(1.0, min(timeout, _deadline() - time.time()))
        conn = http.client.HTTPConnection(APP_HOST, self.port, timeout=timeout)
        try:
            body = json.dumps(payload or {}).encode()
            conn.request("POST" if payload is not None else "GET", path, body=body if payload is not None else None,
                         headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            data = resp.read(1 << 20)
            return json.loads(data)
        except (OSError, http.client.HTTPException, ValueError) as e:
            raise AppError("the candidate's container did not answer %s: %s" % (path, e)) from None
        finally:
            conn.close()

    def wait_ready(self, timeout=None):
        # The candidate's public tests run first; the agent answers once
        # they are over, so this may wait for most of their time budget.
        end = time.time() + timeout if timeout is not None else _deadline() - 5
        timeout = end - time.time()
        while True:
            try:
                if self._call("/health", timeout=2).get("ok"):
                    return
            except AppError:
                if time.time() > end:
                    raise AppError("the candidate's container did not come up within %.0fs" % timeout)
                time.sleep(0.05)

    def manage(self, *args, timeout=60.0):
        """manage runs ``python3 manage.py ARGS`` in the candidate's project."""
        r = self._call("/manage", {"args": list(args), "timeout_s": timeout}, timeout=timeout + 5)
        if not isinstance(r, dict):
            r = {}
        code = r.get("exit_code")
        return CommandResult(list(args), code if isinstance(code, int) else -1, str(r.get("output", ""))[-MESSAGE_CAP:])

    def serve(self, workers=2, threads=4):
        """serve starts the candidate's project under gunicorn and waits until it answers."""
        r = self._call("/serve", {"workers": workers, "threads": threads}, timeout=40)
        if not isinstance(r, dict) or not r.get("ok"):
            raise AppError("the candidate's project could not be served: %s" % (r.get("error") if isinstance(r, dict) else r))
        self._warm_up(workers * threads)
        return r

    def _warm_up(self, n):
        """_warm_up sends n requests at once and waits for their answers (any answer).

        gunicorn accepts connections before its workers have imported the
        project, and Django loads the URLconf, views and serializers on a
        worker's first request: on a loaded machine that first answer can
        take longer than a check's request deadline. Requests at once reach
        every worker, so the checks meet a warm server. The path is one no
        project routes; what it answers is not looked at.
        """
        app = App(APP_PORT)
        threads = [threading.Thread(target=self._warm_one, args=(app,), daemon=True) for _ in range(max(1, n))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(WARM_UP_TIMEOUT + 5)

    @staticmethod
    def _warm_one(app):
        try:
            app.get("/djgrade-warm-up/", timeout=WARM_UP_TIMEOUT)
        except AppError:
            pass

    def stop(self):
        """stop stops the candidate's server (a restart serves new code and empties its memory)."""
        return self._call("/stop", {}, timeout=15)



# Counting the app's statements.

class _Stats:
    def __init__(self):
        self.conn = None
        self.lock = threading.Lock()

    def _connect(self):
        import psycopg2

        if self.conn is None or self.conn.closed:
            self.conn = psycopg2.connect(
                host=os.environ.get("DJGRADE_DB_HOST"), port=os.environ.get("DJGRADE_DB_PORT", "5432"),
                user="judge", dbname=os.environ.get("DJGRADE_DB_NAME", "djgrade"),
            )
            self.conn.autocommit = True
        return self.conn

    def snapshot(self):
        with self.lock:
            with self._connect().cursor() as cur:
                cur.execute(
                    "SELECT s.dbid, s.queryid, s.toplevel, s.query, s.calls "
                    "FROM djgrade_stats.pg_stat_statements(true) s "
                    "WHERE s.userid = (SELECT oid FROM pg_roles WHERE rolname = %s)",
                    (APP_ROLE,),
                )
                rows = {(r[0], r[1], r[2]): (r[3], r[4]) for r in cur.fetchall()}
                cur.execute("SELECT dealloc FROM djgrade_stats.pg_stat_statements_info")
                dealloc = cur.fetchone()[0]
        return rows, dealloc, _log_size()

    def running_since(self, t):
        """running_since counts the app's statements that started after t and are still running."""
        with self.lock:
            with self._connect().cursor() as cur:
                cur.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE usename = %s AND state = 'active' "
                    "AND query_start >= to_timestamp(%s)", (APP_ROLE, t))
                return cur.fetchone()[0]


_ERROR_LINE = ("djgrade %s: ERROR:  " % APP_ROLE).encode()
# A statement cut off before it finishes (the client hung up mid-result, the
# backend was terminated) is in neither pg_stat_statements nor the ERROR
# lines: its trace is one of these.
_CUT_LINES = tuple(("djgrade %s: %s" % (APP_ROLE, m)).encode() for m in (
    "FATAL:", "PANIC:", "LOG:  could not send data to client", "LOG:  could not receive data from client",
    "LOG:  unexpected EOF on client connection",
))


def _log_size():
    try:
        return os.path.getsize(os.environ.get("DJGRADE_PG_LOG", ""))
    except OSError:
        return 0


def _log_lines(start, end):
    if end <= start:
        return []
    with open(os.environ["DJGRADE_PG_LOG"], "rb") as f:
        f.seek(start)
        return f.read(end - start).split(b"\n")


def _failed_statements(lines):
    """The app's statements that failed, from the server's log: pg_stat_statements
    does not see them, and a failing statement can still carry data out in
    its error text."""
    return sum(1 for line in lines if line.startswith(_ERROR_LINE))


def _cut_statements(lines):
    return [line.decode("utf-8", "replace")[:200] for line in lines if line.startswith(_CUT_LINES)]


_stats = _Stats()
_current = threading.local()
_measured = {}  # nodeid -> statement count of the last measured block


class Queries:
    """Queries is the app's statements in one measured block.

    ``count`` is how many statements the app's role ran (transaction
    control and SET left out); ``statements`` lists (times, normalised SQL).
    """

    def __init__(self):
        self.count = 0
        self.statements = []

    def __len__(self):
        return self.count

    def describe(self, limit=12):
        lines = ["%d x %s" % (n, " ".join(q.split())[:200]) for n, q in self.statements[:limit]]
        if len(self.statements) > limit:
            lines.append("... and %d more kinds of statement" % (len(self.statements) - limit))
        return "\n".join(lines)


@contextlib.contextmanager
def app_queries(max=None, exactly=None):
    """app_queries counts the statements the app's database role runs in the block.

    Like pytest-django's django_assert_num_queries, but counted by
    PostgreSQL for the app's own role: raw cursors, other threads, other
    connections and other processes of the app all count, and so do
    statements that fail (from the server's log). With max= or
    exactly= the block fails when the count is over (or not) that number.
    """
    before, dealloc_before, log_before = _stats.snapshot()
    started = time.time()
    q = Queries()
    yield q
    # A moment for a backend whose client hung up to notice and say so.
    time.sleep(0.05)
    running = _stats.running_since(started)
    after, dealloc_after, log_after = _stats.snapshot()
    if dealloc_after != dealloc_before:
        raise AssertionError("the app ran more distinct statements than the judge can count")
    for key, (text, calls) in after.items():
        n = calls - before.get(key, (text, 0))[1]
        if n > 0 and not _NOISE.match(text):
            q.count += n
            q.statements.append((n, text))
    lines = _log_lines(log_before, log_after)
    failed = _failed_statements(lines)
    if failed:
        q.count += failed
        q.statements.append((failed, "(statements that failed with an error)"))
    if running:
        # Started in the block and not finished at its end: not counted yet.
        q.count += running
        q.statements.append((running, "(statements still running after the block)"))
    cut = _cut_statements(lines)
    if cut:
        raise AssertionError(
            "the app's connection to the database was cut while a statement ran, so its statements cannot "
            "be counted:\n" + "\n".join(cut[:5]))
    q.statements.sort(key=lambda s: -s[0])
    node = getattr(_current, "nodeid", None)
    if node:
        _measured[node] = q.count
    if exactly is not None and q.count != exactly:
        raise AssertionError("expected exactly %d statements by the app, saw %d:\n%s" % (exactly, q.count, q.describe()))
    if max is not None and q.count > max:
        raise AssertionError("expected at most %d statements by the app, saw %d:\n%s" % (max, q.count, q.describe()))


def assert_app_idle(seconds=0.3):
    """assert_app_idle fails if the app runs statements while no request is in flight."""
    with app_queries() as q:
        time.sleep(seconds)
    assert q.count == 0, "the app ran %d statements while no request was in flight:\n%s" % (q.count, q.describe())


# Fixtures.

class Overrides:
    """Fixtures that must win over pytest-django's: registered in
    pytest_configure, after every plugin, so that they come last."""

    @pytest.fixture(scope="session")
    def django_db_setup(self):
        """The database is the app's, already there: no test database is made."""
        from django.db import connection

        name = os.environ.get("DJGRADE_DB_NAME", "djgrade")
        assert connection.settings_dict["NAME"] == name, "the judge is not on the app's database"
        yield


@pytest.fixture(scope="session")
def candidate():
    """candidate drives the candidate's container (manage, serve, stop)."""
    c = Candidate(int(os.environ.get("DJGRADE_AGENT_PORT", "8001")))
    c.wait_ready()
    return c


@pytest.fixture
def app():
    """app is the HTTP client of the candidate's project."""
    return App(APP_PORT)


@pytest.fixture(name="app_queries")
def app_queries_fixture():
    """app_queries is the statement counter (see the function of that name)."""
    return app_queries


@pytest.fixture
def rng(request):
    """rng is a random.Random seeded from the run's seed and the test's id."""
    return random.Random(seed() * 1000003 + zlib.crc32(request.node.nodeid.encode()))


@pytest.fixture
def make_user(transactional_db):
    """make_user(username, password=None, **fields) creates a user whose password the app client knows."""
    from django.contrib.auth import get_user_model

    def make(username, password=None, **fields):
        password = password or "pw-%s-%d" % (username, random.randrange(1 << 30))
        user = get_user_model().objects.create_user(username=username, password=password, **fields)
        user.raw_password = password
        return user

    return make


# The report.

def _short(value, cap=160):
    text = json.dumps(value, sort_keys=True, default=str) if isinstance(value, (dict, list)) else repr(value)
    return text if len(text) <= cap else text[:cap] + "..."


def first_difference(saw, expected, where="the answer"):
    """first_difference says in words where saw first differs from expected.

    For JSON-like values (dicts, lists, scalars): None when they are equal,
    else e.g. ``the answer: results[0].id is 1, expected 9`` or
    ``the answer: results has 3 items, expected 4``. Checks use it as
    their assertion's message: ``assert saw == want, first_difference(saw, want, "page 1")``.
    """
    def walk(a, b, path):
        label = path or "the value"
        if isinstance(a, dict) and isinstance(b, dict):
            for k in sorted(set(a) | set(b), key=str):
                p = "%s.%s" % (path, k) if path else str(k)
                if k not in a:
                    return "%s is missing, expected %s" % (p, _short(b[k]))
                if k not in b:
                    return "%s is there but should not be (%s)" % (p, _short(a[k]))
                d = walk(a[k], b[k], p)
                if d:
                    return d
            return None
        if isinstance(a, list) and isinstance(b, list):
            for i, (x, y) in enumerate(zip(a, b)):
                d = walk(x, y, "%s[%d]" % (path, i))
                if d:
                    return d
            if len(a) != len(b):
                return "%s has %d items, expected %d" % (label, len(a), len(b))
            return None
        if a != b or type(a) is not type(b) and not (isinstance(a, (int, float)) and isinstance(b, (int, float))):
            return "%s is %s, expected %s" % (label, _short(a), _short(b))
        return None

    d = walk(saw, expected, "")
    return None if d is None else "%s: %s" % (where, d)


def describe_failure(excinfo):
    """describe_failure is what a failed check says to the interviewer.

    The check's own words come first: an assertion's message (``assert
    cond, "expected ..., saw ..."``) or the message of the error the judge's
    helpers raise (app_queries, App). pytest's comparison of the two sides
    follows as details, never the hidden test's source or its module's
    generated name. An exception that is not an assertion is an error in
    the check or in the app it drove: its type and message.
    """
    e = excinfo.value
    if isinstance(e, pytest.fail.Exception):
        # pytest.fail(msg): the check's own words, like an assertion's.
        return str(getattr(e, "msg", e) or "the check failed")[:MESSAGE_CAP]
    if not isinstance(e, AssertionError):
        return ("%s: %s" % (type(e).__name__, e))[:MESSAGE_CAP]
    lines = str(e).strip().split("\n")
    words, details = [], []
    for line in lines:
        if details or line.startswith("assert "):
            details.append(line)
        else:
            words.append(line)
    words = "\n".join(words).strip()
    details = [d for d in details if "use -v" not in d.lower()]
    if not words:
        words = "the check's condition did not hold"
    if details:
        words += "\n\nDetails:\n" + "\n".join(details[:24])
    return words[:MESSAGE_CAP]


class Recorder:
    def __init__(self, path):
        self.path = path
        self.checks = {}
        self.errors = []

    def check_of(self, item):
        m = item.get_closest_marker("check")
        if m is None or len(m.args) != 1 or not isinstance(m.args[0], str):
            return None
        return m.args[0]

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item):
        _current.nodeid = item.nodeid
        yield
        _current.nodeid = None

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        report = outcome.get_result()
        if report.failed and call.excinfo is not None:
            report.djgrade_message = describe_failure(call.excinfo)

    def pytest_collectreport(self, report):
        if report.failed:
            self.errors.append("collecting %s failed: %s" % (report.nodeid, str(report.longreprtext)[-MESSAGE_CAP:]))

    def pytest_runtest_logreport(self, report):
        item_check = self.items.get(report.nodeid)
        if item_check is None:
            return
        c = self.checks.setdefault(item_check, {"id": item_check, "outcome": "passed", "duration": 0.0, "message": "", "queries": None})
        c["duration"] += float(report.duration or 0.0)
        if report.failed:
            outcome = "failed" if report.when == "call" else "error"
            if c["outcome"] == "passed" or (c["outcome"] == "error" and outcome == "failed"):
                c["outcome"] = outcome
            if not c["message"]:
                c["message"] = getattr(report, "djgrade_message", None) or str(report.longreprtext)[-MESSAGE_CAP:]
        elif report.skipped and c["outcome"] == "passed":
            c["outcome"] = "skipped"
            c["message"] = str(report.longreprtext)[-MESSAGE_CAP:]
        if report.when == "teardown" and report.nodeid in _measured:
            c["queries"] = _measured[report.nodeid]

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, session, config, items):
        self.items = {}
        for item in items:
            check = self.check_of(item)
            if check is None:
                self.errors.append("hidden test %s has no @pytest.mark.check(\"id\")" % item.nodeid)
                continue
            self.items[item.nodeid] = check
            item.add_marker(pytest.mark.django_db(transaction=True))

    def pytest_sessionfinish(self, session, exitstatus):
        report = {
            "version": REPORT_VERSION,
            "seed": seed(),
            "exitstatus": int(exitstatus),
            "checks": sorted(self.checks.values(), key=lambda c: c["id"]),
            "errors": self.errors,
        }
        with open(self.path, "w") as f:
            json.dump(report, f)


def pytest_addoption(parser):
    parser.addoption("--djgrade-report", default="", help="where the judge writes its report")


def pytest_configure(config):
    config.addinivalue_line("markers", "check(id): the manifest check this hidden test decides")
    config.pluginmanager.register(Overrides(), "djgrade-judge-overrides")
    path = config.getoption("--djgrade-report")
    if path:
        rec = Recorder(path)
        rec.items = {}
        config.pluginmanager.register(rec, "djgrade-judge-recorder")
