"""djgrade_pytest: the pytest plugin djgrade runs inside the sandbox.

It writes one JSON report (the format of grader/report.go, version 1) that the
grader scores: per test its node id, the outcome of all phases combined, the
points/category/name of its ``djgrade`` marker, a capped failure message, and
the number of SQL statements its call phase ran (savepoints left out). It also
offers the ``djgrade_queries`` fixture, so hidden tests count queries exactly
the way the report does.

Load it with ``-p djgrade_pytest --djgrade-report=PATH``. It needs only the
standard library and pytest; Django is used when it is importable and
configured, and ignored otherwise.

The grader does not trust this report blindly (candidate code runs in the same
process and could tamper with it); it decides which tests are hidden from the
node ids and checks the points against the exercise's manifest.
"""

import json
import os
import sys
import tempfile
import traceback

import pytest

REPORT_VERSION = 1

# MAX_MESSAGE_BYTES matches grader.MaxMessageBytes: the grader rejects nothing
# longer, but capping here keeps the report small whatever a test prints.
MAX_MESSAGE_BYTES = 4096

# Statements that are transaction bookkeeping, not work: pytest-django wraps
# every test in a transaction and atomic() blocks inside it become savepoints,
# so counting them would make a count depend on how the code nests atomic().
_SAVEPOINT_PREFIXES = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")

_MARKER = "djgrade"
_MARKER_HELP = (
    "djgrade(points=int, category=str, name=str): points, rubric category and "
    "published name of a graded check"
)

def cap_message(text, limit=MAX_MESSAGE_BYTES):
    """cap_message returns text cut to at most limit UTF-8 bytes.

    It cuts on a character boundary so the result is still valid UTF-8, and
    replaces what cannot be encoded (lone surrogates) rather than failing.
    """
    if text is None:
        return ""
    if not isinstance(text, str):
        text = str(text)
    data = text.encode("utf-8", "replace")
    if len(data) <= limit:
        return data.decode("utf-8")
    # A cut in the middle of a multi-byte character leaves an incomplete
    # sequence only at the end; "ignore" drops exactly that.
    return data[:limit].decode("utf-8", "ignore")


def is_savepoint_sql(sql):
    """is_savepoint_sql reports whether sql only manages a savepoint."""
    if not isinstance(sql, str):
        return False
    head = sql.lstrip().upper()
    return head.startswith(_SAVEPOINT_PREFIXES)


def _django_connections():
    """_django_connections returns every connection of this thread, or [].

    It is [] when Django is not installed or not configured: the plugin must
    work for a plain pytest run, and must never configure Django itself.
    """
    if "django" not in sys.modules:
        return []
    try:
        from django.conf import settings

        if not settings.configured:
            return []
        from django.db import connections

        # Connection objects are per thread; all() creates the handle of
        # every alias (not a database connection), so a connection first
        # used during the test is covered too.
        return list(connections.all())
    except Exception:
        return []


class QueryRecorder:
    """QueryRecorder collects the SQL run on a set of connections.

    It is an execute_wrapper: Django calls it with each statement before it
    runs, with SQL and parameters apart, per connection. Savepoint statements
    are left out. An executemany counts as one statement.
    """

    def __init__(self):
        self.sql = []

    @property
    def count(self):
        """count is the number of statements recorded."""
        return len(self.sql)

    def __call__(self, execute, sql, params, many, context):
        if not is_savepoint_sql(sql):
            self.sql.append(sql)
        return execute(sql, params, many, context)


class _Wrapped:
    """_Wrapped installs a QueryRecorder on connections for a with block."""

    def __init__(self, recorder, connections):
        self._recorder = recorder
        self._connections = connections
        self._installed = []

    def __enter__(self):
        for conn in self._connections:
            # execute_wrapper() is itself a context manager; entering it by
            # hand keeps the install and removal symmetric even if a later
            # connection fails.
            cm = conn.execute_wrapper(self._recorder)
            cm.__enter__()
            self._installed.append(cm)
        return self._recorder

    def __exit__(self, *exc):
        while self._installed:
            self._installed.pop().__exit__(None, None, None)
        return False


class DjgradeQueries:
    """DjgradeQueries is the djgrade_queries fixture's value.

    Use it as a context manager, either directly or by calling it:

        with djgrade_queries as q:            # or djgrade_queries()
            client.get("/api/books/")
        assert q.count == 3, q.sql

    It counts like the report: every statement on every database connection
    of the current thread, savepoints left out. Each with block starts from
    zero; after the block .count and .sql keep what it saw.
    """

    def __init__(self, using=None):
        self._using = using
        self._recorder = QueryRecorder()
        self._wrapped = None

    @property
    def count(self):
        """count is the number of statements the last with block ran."""
        return self._recorder.count

    @property
    def sql(self):
        """sql lists the statements the last with block ran, in order."""
        return list(self._recorder.sql)

    def __call__(self, using=None):
        return DjgradeQueries(using=using)

    def _connections(self):
        conns = _django_connections()
        if self._using is not None:
            conns = [c for c in conns if c.alias == self._using]
        return conns

    def __enter__(self):
        if self._wrapped is not None:
            raise RuntimeError("djgrade_queries: this counter is already counting")
        self._recorder = QueryRecorder()
        self._wrapped = _Wrapped(self._recorder, self._connections())
        self._wrapped.__enter__()
        return self

    def __exit__(self, *exc):
        wrapped, self._wrapped = self._wrapped, None
        wrapped.__exit__(*exc)
        return False


@pytest.fixture
def djgrade_queries():
    """djgrade_queries counts SQL statements like the djgrade report does."""
    return DjgradeQueries()


class _TestEntry:
    """_TestEntry accumulates the phase reports of one test."""

    def __init__(self, nodeid):
        self.nodeid = nodeid
        self.name = ""
        self.points = 0
        self.category = ""
        self.reports = {}
        self.duration = 0.0
        self.queries = 0

    def outcome(self):
        setup = self.reports.get("setup")
        call = self.reports.get("call")
        teardown = self.reports.get("teardown")
        if (setup is not None and setup.failed) or (teardown is not None and teardown.failed):
            return "error"
        for rep in (setup, call):
            if rep is None:
                continue
            if rep.skipped:
                return "xfailed" if hasattr(rep, "wasxfail") else "skipped"
        if call is None:
            # Setup passed but the call never reported: the session stopped
            # (an interrupt, a crash). Not a pass.
            return "error"
        if call.failed:
            return "failed"
        if hasattr(call, "wasxfail"):
            return "xpassed"
        return "passed"

    def message(self):
        parts = []
        for when in ("setup", "call", "teardown"):
            rep = self.reports.get(when)
            if rep is None:
                continue
            if rep.failed:
                parts.append(_failure_text(rep, when))
            elif rep.skipped:
                parts.append(_skip_text(rep))
            elif hasattr(rep, "wasxfail"):
                parts.append("XPASS " + str(rep.wasxfail or ""))
        return cap_message("\n\n".join(p for p in parts if p))

    def as_json(self):
        return {
            "nodeid": self.nodeid,
            "name": self.name,
            "outcome": self.outcome(),
            "duration": round(self.duration, 6),
            "points": self.points,
            "category": self.category,
            "message": self.message(),
            "queries": self.queries,
        }


def _failure_text(rep, when):
    """_failure_text puts the one-line cause first, then the traceback."""
    head = ""
    crash = getattr(getattr(rep, "longrepr", None), "reprcrash", None)
    if crash is not None and getattr(crash, "message", ""):
        head = crash.message
    body = rep.longreprtext or ""
    if when != "call":
        head = "error in %s: %s" % (when, head) if head else "error in %s" % when
    return head + "\n\n" + body if head else body


def _skip_text(rep):
    if hasattr(rep, "wasxfail"):
        return "XFAIL " + str(rep.wasxfail or "")
    longrepr = rep.longrepr
    # A skip's longrepr is (path, lineno, reason).
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    return rep.longreprtext or ""


def _marker_values(item):
    """_marker_values returns (name, points, category, problem) of an item."""
    marker = item.get_closest_marker(_MARKER)
    if marker is None:
        return "", 0, "", None
    kw = marker.kwargs
    points = kw.get("points", 0)
    category = kw.get("category", "")
    name = kw.get("name", "")
    problems = []
    if marker.args:
        problems.append("takes keyword arguments only")
    unknown = sorted(set(kw) - {"points", "category", "name"})
    if unknown:
        problems.append("unknown argument(s) %s" % ", ".join(unknown))
    # bool is an int in Python; points=True is a typo, not a point.
    if not isinstance(points, int) or isinstance(points, bool) or points < 0:
        problems.append("points must be a non-negative integer, got %r" % (points,))
        points = 0
    if not isinstance(category, str):
        problems.append("category must be a string, got %r" % (category,))
        category = ""
    if not isinstance(name, str):
        problems.append("name must be a string, got %r" % (name,))
        name = ""
    problem = None
    if problems:
        problem = "invalid @pytest.mark.djgrade: " + "; ".join(problems)
    return name, points, category, problem


def write_report(path, document):
    """write_report writes document as JSON to path atomically.

    The report is written to a temporary file in the same folder and renamed
    over path, so a reader never sees half a report even if the process is
    killed while writing.
    """
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    data = json.dumps(document, indent=1, sort_keys=True).encode("utf-8")
    fd, tmp = tempfile.mkstemp(prefix=".djgrade-report-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _report_path(config_or_namespace, invocation_dir):
    value = getattr(config_or_namespace, "djgrade_report", None)
    if not value:
        return None
    return os.path.join(str(invocation_dir), value)


def pytest_addoption(parser):
    group = parser.getgroup("djgrade")
    group.addoption(
        "--djgrade-report",
        action="store",
        dest="djgrade_report",
        default=None,
        metavar="PATH",
        help="write the djgrade JSON report to PATH at the end of the session",
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_load_initial_conftests(early_config, parser, args):
    # A failing root conftest or Django setup (settings, models, apps) ends
    # pytest before a session exists, so no later hook would write a report.
    # Write one here so the grader can tell "the project does not import"
    # from "the sandbox broke".
    outcome = yield
    excinfo = outcome.excinfo
    if excinfo is None:
        return
    ns = getattr(early_config, "known_args_namespace", None)
    path = _report_path(ns, early_config.invocation_params.dir)
    if path is None:
        return
    exc = excinfo[1]
    where = str(getattr(exc, "path", "") or "")
    cause = getattr(exc, "cause", None) or exc
    text = "".join(traceback.format_exception(type(cause), cause, cause.__traceback__))
    rec = _Recorder(path)
    rec.collect_errors.append({"nodeid": where, "message": cap_message(text)})
    try:
        # USAGE_ERROR is what pytest exits with for a broken conftest.
        write_report(path, rec.document(pytest.ExitCode.USAGE_ERROR))
    except OSError:
        pass


def pytest_configure(config):
    config.addinivalue_line("markers", _MARKER_HELP)
    path = _report_path(config.option, config.invocation_params.dir)
    # Hooks such as pytest_runtest_logreport get no config, so the state
    # lives on a plugin object registered for this config only.
    config.pluginmanager.register(_Recorder(path), _RECORDER_NAME)


def pytest_unconfigure(config):
    # An in-process run (pytester, pytest.main) configures again in the same
    # interpreter; each run must start with its own recorder.
    plugin = config.pluginmanager.get_plugin(_RECORDER_NAME)
    if plugin is not None:
        config.pluginmanager.unregister(plugin)


_RECORDER_NAME = "djgrade-recorder"


class _Recorder:
    """_Recorder collects one session's results and writes the report."""

    def __init__(self, path):
        self.path = path
        self.tests = {}
        self.order = []
        self.collect_errors = []

    def entry(self, nodeid):
        e = self.tests.get(nodeid)
        if e is None:
            e = _TestEntry(nodeid)
            self.tests[nodeid] = e
            self.order.append(nodeid)
        return e

    def document(self, exitstatus):
        return {
            "version": REPORT_VERSION,
            "exitstatus": int(exitstatus),
            "collect_errors": list(self.collect_errors),
            "tests": [self.tests[n].as_json() for n in self.order],
        }

    def pytest_collectreport(self, report):
        if report.failed:
            self.collect_errors.append(
                {"nodeid": report.nodeid, "message": cap_message(report.longreprtext)}
            )

    def pytest_collection_modifyitems(self, items):
        for item in items:
            name, points, category, problem = _marker_values(item)
            entry = self.entry(item.nodeid)
            entry.name, entry.points, entry.category = name, points, category
            if problem:
                self.collect_errors.append({"nodeid": item.nodeid, "message": problem})

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item):
        recorder = QueryRecorder()
        wrapped = _Wrapped(recorder, _django_connections())
        wrapped.__enter__()
        try:
            yield
        finally:
            wrapped.__exit__(None, None, None)
            self.entry(item.nodeid).queries = recorder.count

    def pytest_runtest_logreport(self, report):
        entry = self.entry(report.nodeid)
        entry.reports[report.when] = report
        entry.duration += float(getattr(report, "duration", 0.0) or 0.0)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session, exitstatus):
        if self.path is not None:
            write_report(self.path, self.document(exitstatus))
