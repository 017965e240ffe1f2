"""Tests of the djgrade_pytest plugin.

Each test runs a real pytest session in a subprocess (pytester) with the
plugin loaded the way the grader loads it, and reads the JSON report back.
A subprocess keeps Django's process-wide settings of one session out of the
next.
"""

import json
import os

import pytest

import djgrade_pytest

REPORT = ".djgrade/report.json"


def run(pytester, *args):
    """run runs pytest like the grader does and returns (result, report)."""
    result = pytester.runpytest_subprocess(
        "-p", "djgrade_pytest", "-p", "no:cacheprovider", "-q",
        "--djgrade-report=" + REPORT, *args
    )
    path = pytester.path / REPORT
    report = json.loads(path.read_text("utf-8")) if path.exists() else None
    return result, report


def by_name(report):
    return {t["nodeid"].split("::")[-1]: t for t in report["tests"]}


def test_report_shape_and_marker_values(pytester):
    pytester.makepyfile(test_shape="""
        import pytest

        @pytest.mark.djgrade(points=3, category="performance", name="Runs fast")
        def test_marked():
            pass

        def test_unmarked():
            assert 1 + 1 == 3, "arithmetic is broken"

        @pytest.mark.djgrade(points=2, category="correctness", name="Klass check")
        class TestGroup:
            def test_in_class(self):
                pass
    """)
    result, report = run(pytester, "--strict-markers")
    assert result.ret == 1
    assert set(report) == {"version", "exitstatus", "collect_errors", "tests", "integrity"}
    assert report["version"] == 1
    assert report["integrity"] == []
    assert report["exitstatus"] == 1
    assert report["collect_errors"] == []
    assert [t["nodeid"] for t in report["tests"]] == [
        "test_shape.py::test_marked",
        "test_shape.py::test_unmarked",
        "test_shape.py::TestGroup::test_in_class",
    ]
    tests = by_name(report)
    for t in report["tests"]:
        assert set(t) == {"nodeid", "name", "outcome", "duration", "points",
                          "category", "message", "queries"}
        assert isinstance(t["duration"], float) and t["duration"] >= 0
        assert t["queries"] == 0
    m = tests["test_marked"]
    assert (m["outcome"], m["points"], m["category"], m["name"], m["message"]) == (
        "passed", 3, "performance", "Runs fast", "")
    u = tests["test_unmarked"]
    assert (u["outcome"], u["points"], u["category"], u["name"]) == ("failed", 0, "", "")
    assert u["message"].startswith("AssertionError: arithmetic is broken")
    assert "assert 1 + 1 == 3" in u["message"]
    c = tests["test_in_class"]
    assert (c["points"], c["category"], c["name"]) == (2, "correctness", "Klass check")


def test_outcomes(pytester):
    pytester.makepyfile(test_outcomes="""
        import time
        import pytest

        @pytest.fixture
        def broken_setup():
            raise RuntimeError("setup exploded")

        @pytest.fixture
        def broken_teardown():
            yield
            raise RuntimeError("teardown exploded")

        @pytest.fixture
        def slow_phases():
            time.sleep(0.05)
            yield
            time.sleep(0.05)

        def test_setup_error(broken_setup):
            pass

        def test_teardown_error(broken_teardown):
            pass

        def test_call_and_teardown_fail(broken_teardown):
            assert False

        def test_skipped():
            pytest.skip("not today")

        @pytest.mark.skip(reason="marked away")
        def test_skip_marker():
            pass

        @pytest.mark.xfail(reason="known bug")
        def test_xfailed():
            assert False

        @pytest.mark.xfail(reason="fixed already")
        def test_xpassed():
            pass

        @pytest.mark.xfail(reason="must fail", strict=True)
        def test_strict_xpass():
            pass

        @pytest.mark.xfail(reason="never run", run=False)
        def test_xfail_not_run():
            pass

        def test_imperative_xfail():
            pytest.xfail("gave up")

        def test_durations_add_up(slow_phases):
            time.sleep(0.05)
    """)
    result, report = run(pytester)
    assert result.ret == 1
    tests = by_name(report)
    got = {k: v["outcome"] for k, v in tests.items()}
    assert got == {
        "test_setup_error": "error",
        "test_teardown_error": "error",
        "test_call_and_teardown_fail": "error",
        "test_skipped": "skipped",
        "test_skip_marker": "skipped",
        "test_xfailed": "xfailed",
        "test_xpassed": "xpassed",
        "test_strict_xpass": "failed",
        "test_xfail_not_run": "xfailed",
        "test_imperative_xfail": "xfailed",
        "test_durations_add_up": "passed",
    }
    assert "setup exploded" in tests["test_setup_error"]["message"]
    assert tests["test_setup_error"]["message"].startswith("error in setup")
    assert "teardown exploded" in tests["test_teardown_error"]["message"]
    both = tests["test_call_and_teardown_fail"]["message"]
    assert "assert False" in both and "teardown exploded" in both
    assert tests["test_skipped"]["message"].endswith("not today")  # pytest 8 says "Skipped: not today"
    assert tests["test_skip_marker"]["message"].endswith("marked away")
    assert tests["test_xfailed"]["message"] == "XFAIL known bug"
    assert tests["test_xpassed"]["message"] == "XPASS fixed already"
    assert "XPASS(strict)" in tests["test_strict_xpass"]["message"]
    # setup + call + teardown each sleep 50ms.
    assert tests["test_durations_add_up"]["duration"] >= 0.15


def test_message_is_capped_on_a_character_boundary(pytester):
    # "é" is two bytes in UTF-8 and "€" three; an odd count of bytes before
    # them puts the 4096th byte inside a character.
    pytester.makepyfile(test_long="""
        def test_long():
            raise AssertionError("x" + "é€" * 5000)
    """)
    _, report = run(pytester)
    msg = report["tests"][0]["message"]
    data = msg.encode("utf-8")
    assert 4090 <= len(data) <= 4096
    assert msg.startswith("AssertionError: xé€é€")


@pytest.mark.parametrize("text, limit, want", [
    ("", 10, ""),
    (None, 10, ""),
    ("abc", 3, "abc"),
    ("abcd", 3, "abc"),
    ("aé", 2, "a"),        # é would need bytes 2 and 3
    ("a€", 3, "a"),        # € would need bytes 2..4
    ("a€", 4, "a€"),
    ("\udc80ok", 10, "?ok"),  # a lone surrogate cannot be UTF-8
])
def test_cap_message(text, limit, want):
    assert djgrade_pytest.cap_message(text, limit) == want


@pytest.mark.parametrize("sql, want", [
    ('SAVEPOINT "s1_x1"', True),
    ('  release savepoint "s1_x1"', True),
    ('ROLLBACK TO SAVEPOINT "s1_x1"', True),
    ("SELECT 1", False),
    ("ROLLBACK", False),
    ("SELECT 'SAVEPOINT'", False),
    (None, False),
])
def test_is_savepoint_sql(sql, want):
    assert djgrade_pytest.is_savepoint_sql(sql) is want


DJANGO_SETTINGS = """
SECRET_KEY = "test"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth"]
DATABASES = {
    "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"},
    "other": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"},
}
"""


def test_queries_counted_in_call_phase_without_savepoints(pytester):
    pytester.makepyfile(djsettings=DJANGO_SETTINGS)
    pytester.makeini("[pytest]\nDJANGO_SETTINGS_MODULE = djsettings\n")
    pytester.makepyfile(test_db="""
        import pytest
        from django.contrib.auth.models import Group
        from django.db import transaction

        @pytest.fixture
        def groups(db):
            # Queries in setup are not the test's work.
            for i in range(5):
                Group.objects.create(name="g%d" % i)

        @pytest.mark.django_db
        def test_three_queries(groups):
            assert Group.objects.count() == 5            # 1
            with transaction.atomic():                  # SAVEPOINT ... RELEASE
                Group.objects.create(name="new")        # 2
                with transaction.atomic():
                    list(Group.objects.all())           # 3

        @pytest.mark.django_db
        def test_rolled_back_savepoint():
            try:
                with transaction.atomic():              # SAVEPOINT
                    Group.objects.create(name="x")      # 1
                    raise ValueError                    # ROLLBACK TO SAVEPOINT
            except ValueError:
                pass

        @pytest.mark.django_db(databases=["default", "other"])
        def test_every_connection():
            from django.db import connections
            Group.objects.using("default").count()
            Group.objects.using("other").count()

        def test_no_db():
            pass

        @pytest.mark.django_db
        def test_fixture(djgrade_queries):
            with djgrade_queries as q:
                with transaction.atomic():
                    Group.objects.create(name="a")
                    Group.objects.create(name="b")
            assert q.count == 2, q.sql
            assert all(s.startswith("INSERT") for s in q.sql), q.sql
            with djgrade_queries() as q2:
                Group.objects.count()
            assert (q.count, q2.count) == (2, 1)
            assert q2.sql[0].startswith("SELECT COUNT(*)")
            with djgrade_queries(using="other") as q3:
                Group.objects.count()
            assert q3.count == 0
    """)
    result, report = run(pytester)
    assert result.ret == 0, result.stdout.str()
    got = {k: (v["outcome"], v["queries"]) for k, v in by_name(report).items()}
    assert got == {
        "test_three_queries": ("passed", 3),
        "test_rolled_back_savepoint": ("passed", 1),
        "test_every_connection": ("passed", 2),
        "test_no_db": ("passed", 0),
        "test_fixture": ("passed", 4),  # 2 inserts + 2 counts
    }


def test_collect_error_still_writes_report(pytester):
    pytester.makepyfile(test_good="def test_ok():\n    pass\n")
    pytester.makepyfile(test_broken="import no_such_module_here\n")
    result, report = run(pytester)
    assert result.ret == 2
    assert report["exitstatus"] == 2
    assert [e["nodeid"] for e in report["collect_errors"]] == ["test_broken.py"]
    assert "no_such_module_here" in report["collect_errors"][0]["message"]
    # pytest stops before running anything when collection fails.
    assert report["tests"] == [] or all(t["outcome"] != "passed" for t in report["tests"])


def test_collect_error_message_is_capped(pytester):
    pytester.makepyfile(test_huge="raise ImportError('é' * 10000)\n")
    _, report = run(pytester)
    msg = report["collect_errors"][0]["message"]
    assert len(msg.encode("utf-8")) <= 4096


def test_broken_root_conftest_writes_report(pytester):
    pytester.makeconftest("raise RuntimeError('conftest is broken')\n")
    pytester.makepyfile(test_x="def test_ok():\n    pass\n")
    result, report = run(pytester)
    assert result.ret == 4
    assert report is not None, result.stderr.str()
    assert report["exitstatus"] == 4
    assert report["tests"] == []
    [err] = report["collect_errors"]
    assert err["nodeid"].endswith("conftest.py")
    assert "conftest is broken" in err["message"]


def test_broken_django_settings_writes_report(pytester):
    pytester.makepyfile(badsettings="raise ImportError('settings cannot import')\n")
    pytester.makeini("[pytest]\nDJANGO_SETTINGS_MODULE = badsettings\n")
    pytester.makepyfile(test_x="def test_ok():\n    pass\n")
    result, report = run(pytester)
    assert result.ret != 0
    assert report is not None, result.stderr.str()
    [err] = report["collect_errors"]
    assert "settings cannot import" in err["message"]


def test_invalid_marker_is_a_collect_error(pytester):
    pytester.makepyfile(test_bad="""
        import pytest

        @pytest.mark.djgrade(points=-1, category="x", name="negative")
        def test_negative():
            pass

        @pytest.mark.djgrade(points=True, category=3, name="bool points")
        def test_bool():
            pass

        @pytest.mark.djgrade(2, category="x", name="positional", weight=1)
        def test_positional():
            pass
    """)
    _, report = run(pytester)
    errors = {e["nodeid"].split("::")[-1]: e["message"] for e in report["collect_errors"]}
    assert set(errors) == {"test_negative", "test_bool", "test_positional"}
    assert "non-negative integer" in errors["test_negative"]
    assert "category must be a string" in errors["test_bool"]
    assert "keyword arguments only" in errors["test_positional"]
    assert "weight" in errors["test_positional"]
    assert all(t["points"] == 0 for t in report["tests"])


def test_report_folder_created_and_no_temp_left(pytester):
    pytester.makepyfile(test_x="def test_ok():\n    pass\n")
    result = pytester.runpytest_subprocess(
        "-p", "djgrade_pytest", "--djgrade-report=deep/er/report.json")
    assert result.ret == 0
    folder = pytester.path / "deep" / "er"
    assert os.listdir(folder) == ["report.json"]
    assert json.loads((folder / "report.json").read_text())["tests"][0]["outcome"] == "passed"


def test_no_report_without_option(pytester):
    pytester.makepyfile(test_x="def test_ok():\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "djgrade_pytest")
    assert result.ret == 0
    assert not (pytester.path / ".djgrade").exists()


def test_write_report_replaces_atomically(tmp_path):
    path = tmp_path / "r.json"
    path.write_text("old")
    djgrade_pytest.write_report(str(path), {"version": 1})
    assert json.loads(path.read_text()) == {"version": 1}
    assert os.listdir(tmp_path) == ["r.json"]
