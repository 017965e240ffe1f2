"""pytest plugin for the public tests, in the candidate's container.

It writes each public test's outcome, and the queries its body ran on
Django's connections (as assertNumQueries counts them: one per execute),
to the file named by --djgrade-public-report. It runs beside the candidate's code, in the
candidate's process, so nothing it writes is believed: the results are the
candidate's own tests talking, shown to the candidate and to staff as
such. No point depends on them.
"""

import contextlib
import json
import os

import pytest

MESSAGE_CAP = 2048
MAX_TESTS = 500


def failure_message(report, root):
    """What a person reads of a failure: the assertion or exception that
    failed (pytest's crash line, where it has one) and where, from the start;
    without one, the end of the long report, where the error is."""
    crash = getattr(getattr(report, "longrepr", None), "reprcrash", None)
    text = getattr(crash, "message", "") if crash is not None else ""
    if not text:
        return str(report.longreprtext)[-MESSAGE_CAP:]
    if crash.path and crash.lineno:
        where = os.path.relpath(str(crash.path), root) if os.path.isabs(str(crash.path)) else str(crash.path)
        text += "\n(at %s:%d)" % (where, crash.lineno)
    if len(text) > MESSAGE_CAP:
        text = text[:MESSAGE_CAP - 1] + "\u2026"
    return text


def pytest_addoption(parser):
    parser.addoption("--djgrade-public-report", default="")


class Recorder:
    def __init__(self, path, root):
        self.path = path
        self.root = root
        self.tests = {}
        self.queries = {}

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item):
        count = [0]

        def counted(execute, sql, params, many, context):
            count[0] += 1
            return execute(sql, params, many, context)

        with contextlib.ExitStack() as stack:
            try:
                from django.db import connections
                for conn in connections.all():
                    stack.enter_context(conn.execute_wrapper(counted))
            except Exception:
                pass
            yield
        self.queries[item.nodeid] = count[0]

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_logreport(self, report):
        t = self.tests.setdefault(report.nodeid, {"nodeid": report.nodeid, "outcome": "passed", "duration": 0.0, "message": ""})
        t["duration"] += float(getattr(report, "duration", 0.0) or 0.0)
        if report.failed:
            t["outcome"] = "failed" if report.when == "call" else "error"
            if not t["message"]:
                t["message"] = failure_message(report, self.root)
        elif report.skipped and t["outcome"] == "passed":
            t["outcome"] = "skipped"

    def pytest_collectreport(self, report):
        if report.failed:
            self.tests.setdefault(report.nodeid or "collection", {
                "nodeid": report.nodeid or "collection", "outcome": "error", "duration": 0.0,
                "message": str(report.longreprtext)[-MESSAGE_CAP:],
            })

    def pytest_sessionfinish(self, session, exitstatus):
        tests = list(self.tests.values())[:MAX_TESTS]
        for t in tests:
            t["queries"] = self.queries.get(t["nodeid"], 0)
        with open(self.path, "w") as f:
            json.dump({"exitstatus": int(exitstatus), "tests": tests}, f)


FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session):
    """Passwords hash fast, as in graded runs (djgrade_settings): a test
    that creates a user spends no CPU-second on PBKDF2. This changes
    nothing a test can tell apart but the hash's prefix, and it is how
    Django's own docs advise running tests. Set once Django is set up
    (pytest-django does that first), through override_settings so that
    Django's caches of the hashers hear of it."""
    if not session.config.getoption("--djgrade-public-report"):
        return
    try:
        from django.conf import settings
        from django.test.utils import override_settings
        if settings.configured:
            override_settings(PASSWORD_HASHERS=FAST_HASHERS).enable()
    except Exception:  # noqa: BLE001: a project that does not set up runs (and fails) as it would
        pass


def pytest_configure(config):
    path = config.getoption("--djgrade-public-report")
    if path:
        config.pluginmanager.register(Recorder(path, str(config.rootpath)), "djgrade-public-recorder")
