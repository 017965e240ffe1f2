"""Tests of the plugin's private channel: the report key and hidden tests
read from descriptor 3, hidden tests run from memory, the signed report and
the integrity checks.

Each test runs pytest in a subprocess the way the sandbox's init does: the
private JSON on a pipe as descriptor 3 and DJGRADE_PRIVATE_FD=3 (a small
shell moves our stdin pipe there).
"""

import hashlib
import hmac
import json
import os
import subprocess
import sys
import textwrap

REPORT = ".djgrade/report.json"
KEY = bytes(range(32))
MARK = "HIDDEN-SOURCE-MARK-7f3a"


def run_private(pytester, hidden, *args, private=None):
    """run_private runs pytest with hidden (path -> source) on descriptor 3
    and returns (process, report dict or None, report bytes, signature)."""
    if private is None:
        doc = {"key": KEY.hex(), "hidden": [
            {"path": p, "source": textwrap.dedent(s)} for p, s in hidden.items()]}
        private = json.dumps(doc).encode()
    cmd = ["sh", "-c", 'exec 3<&0 </dev/null; exec "$@"', "sh",
           sys.executable, "-m", "pytest", "-p", "djgrade_pytest", "-p", "no:cacheprovider",
           "-q", "-rfE", "--djgrade-report=" + REPORT, *args]
    env = dict(os.environ, DJGRADE_PRIVATE_FD="3")
    proc = subprocess.run(cmd, cwd=pytester.path, input=private, capture_output=True, env=env, timeout=300)
    path = pytester.path / REPORT
    data = path.read_bytes() if path.exists() else None
    sigpath = pytester.path / (REPORT + ".sig")
    sig = sigpath.read_bytes() if sigpath.exists() else None
    report = json.loads(data) if data is not None else None
    return proc, report, data, sig


def outcomes(report):
    return {t["nodeid"]: t["outcome"] for t in report["tests"]}


def messages(report):
    return {t["nodeid"]: t["message"] for t in report["tests"]}


def assert_signed(data, sig):
    assert sig is not None, "no signature"
    want = hmac.new(KEY, data, hashlib.sha256).hexdigest().encode()
    assert hmac.compare_digest(sig, want)


HIDDEN_CONFTEST = """
    import pytest

    CONSTANT = "from the hidden conftest"  # %s

    @pytest.fixture
    def hidden_number():
        return 42
""" % MARK

HIDDEN_TEST = """
    import pytest
    from conftest import CONSTANT

    @pytest.mark.djgrade(points=2, category="correctness", name="Fixture works")
    def test_fixture(hidden_number):
        assert hidden_number == 42
        assert CONSTANT == "from the hidden conftest"

    @pytest.mark.djgrade(points=1, category="correctness", name="Helpful message")
    def test_message():
        values = [1, 2]
        assert len(values) == 3, "wanted three"  # %s
""" % MARK


def test_hidden_tests_run_from_memory_and_report_is_signed(pytester):
    pytester.makeini("[pytest]\npython_files = test_*.py\n")
    pytester.mkdir("tests")
    # The public test is the candidate's view of the process after the
    # plugin loaded: it looks everywhere it can without walking memory.
    pytester.path.joinpath("tests", "test_public.py").write_text(textwrap.dedent("""
        import linecache
        import os
        import stat

        MARK = "HIDDEN-SOURCE-MARK-" + "7f3a"

        def test_nothing_to_find():
            assert "DJGRADE_PRIVATE_FD" not in os.environ
            for name in os.listdir("djgrade_hidden"):
                assert os.path.getsize(os.path.join("djgrade_hidden", name)) == 0, name
            assert sorted(os.listdir("djgrade_hidden")) == ["test_hidden.py"]
            # No descriptor leads to a pipe other than stdout/stderr's.
            outs = {os.fstat(1).st_ino, os.fstat(2).st_ino}
            for fd in os.listdir("/proc/self/fd"):
                try:
                    st = os.fstat(int(fd))
                except OSError:
                    continue
                if stat.S_ISFIFO(st.st_mode):
                    assert st.st_ino in outs, ("a private pipe is still open", fd)
            for lines in list(linecache.cache.values()):
                body = "".join(lines[2]) if isinstance(lines, tuple) and len(lines) > 2 else ""
                assert MARK not in body
            assert "".join(linecache.getlines(os.path.abspath("djgrade_hidden/test_hidden.py"))).strip() == ""

        def test_hidden_fixture_is_scoped(hidden_number):
            pass
    """))
    # -s and no faulthandler: descriptors 1 and 2 stay the real pipes and
    # no copy of them is made, so any other pipe would be the private one.
    proc, report, data, sig = run_private(pytester, {
        "djgrade_hidden/conftest.py": HIDDEN_CONFTEST,
        "djgrade_hidden/test_hidden.py": HIDDEN_TEST,
    }, "-s", "-p", "no:faulthandler")
    assert report is not None, proc.stderr.decode()
    assert report["integrity"] == [], report["integrity"]
    assert outcomes(report) == {
        "djgrade_hidden/test_hidden.py::test_fixture": "passed",
        "djgrade_hidden/test_hidden.py::test_message": "failed",
        "tests/test_public.py::test_nothing_to_find": "passed",
        "tests/test_public.py::test_hidden_fixture_is_scoped": "error",
    }, proc.stdout.decode()
    msg = messages(report)["djgrade_hidden/test_hidden.py::test_message"]
    # Assertion rewriting still explains the failure...
    assert "wanted three" in msg and "assert 2 == 3" in msg and "len(" in msg, msg
    # ...without any line of the source, which pytest could not find.
    assert MARK not in msg and MARK not in proc.stdout.decode() + proc.stderr.decode()
    assert "fixture 'hidden_number' not found" in messages(report)["tests/test_public.py::test_hidden_fixture_is_scoped"]
    assert_signed(data, sig)
    # Nothing on disk holds the hidden source.
    for folder, _, files in os.walk(pytester.path):
        for f in files:
            with open(os.path.join(folder, f), "rb") as fh:
                assert MARK.encode() not in fh.read(), f


def test_broken_hidden_conftest_is_a_collect_error(pytester):
    pytester.makeini("[pytest]\npython_files = test_*.py\n")
    proc, report, data, sig = run_private(pytester, {
        "djgrade_hidden/conftest.py": "import no_such_module_for_djgrade\n",
        "djgrade_hidden/test_hidden.py": HIDDEN_TEST,
    })
    assert report is not None, proc.stderr.decode()
    [err] = report["collect_errors"]
    assert err["nodeid"] == "djgrade_hidden/test_hidden.py"
    assert "no_such_module_for_djgrade" in err["message"]
    assert_signed(data, sig)


def test_integrity_problems_are_reported(pytester):
    pytester.makeini("[pytest]\npython_files = test_*.py\n")
    # A candidate module imported by the public tests patches pytest, adds
    # a hook that turns failures into passes and replaces a hidden test.
    pytester.makepyfile(cheat="""
        import sys
        import gc
        import pytest
        import _pytest.runner

        real = _pytest.runner.call_and_report

        def call_and_report(item, when, log=True, **kw):
            return real(item, when, log, **kw)

        _pytest.runner.call_and_report = call_and_report

        class Cheat:
            @pytest.hookimpl(hookwrapper=True)
            def pytest_runtest_makereport(self, item, call):
                outcome = yield
                rep = outcome.get_result()
                if rep.when == "call":
                    rep.outcome = "passed"

        def install():
            for obj in gc.get_objects():
                if type(obj).__name__ == "Config" and hasattr(obj, "pluginmanager"):
                    if not obj.pluginmanager.is_registered(Cheat):
                        obj.pluginmanager.register(Cheat(), "cheat")
            for name, mod in list(sys.modules.items()):
                if name.startswith("_djgrade_hidden_") and hasattr(mod, "test_message"):
                    mod.test_message = lambda: None
    """)
    pytester.makepyfile(test_public="""
        import cheat

        def test_install():
            cheat.install()
    """)
    # zz_ sorts last: its module replaces the plugin in sys.modules.
    pytester.makepyfile(test_zz="""
        import sys

        def test_swap():
            sys.modules["djgrade_pytest"] = object()
    """)
    proc, report, data, sig = run_private(pytester, {
        "djgrade_hidden/conftest.py": HIDDEN_CONFTEST,
        "djgrade_hidden/test_hidden.py": HIDDEN_TEST,
    })
    assert report is not None, proc.stderr.decode()
    problems = "\n".join(report["integrity"])
    assert "call_and_report was replaced" in problems, problems
    assert "unknown implementation of pytest_runtest_makereport" in problems, problems
    assert "test_message was replaced" in problems, problems
    assert "sys.modules no longer maps djgrade_pytest" in problems, problems
    # The report is still signed: it is ours, it just says it cannot be trusted.
    assert_signed(data, sig)


def test_unexpected_hidden_file_is_reported(pytester):
    pytester.makeini("[pytest]\npython_files = test_*.py\n")
    pytester.makeconftest("""
        import os
        os.makedirs("djgrade_hidden", exist_ok=True)
        with open("djgrade_hidden/test_forged.py", "w") as f:
            f.write("import pytest\\n@pytest.mark.djgrade(points=9, category='correctness')\\ndef test_free():\\n    pass\\n")
    """)
    proc, report, data, sig = run_private(pytester, {"djgrade_hidden/test_hidden.py": HIDDEN_TEST.replace("from conftest import CONSTANT", "CONSTANT = 'from the hidden conftest'").replace("hidden_number", "")})
    assert report is not None, proc.stderr.decode()
    assert "djgrade_hidden/test_forged.py::test_free" not in outcomes(report)
    # The file's name is the candidate's choice: the problem does not repeat it.
    assert "an unexpected file was found in djgrade_hidden" in report["integrity"], report["integrity"]
    assert not any("forged" in p for p in report["integrity"]), report["integrity"]


def test_malformed_private_channel(pytester):
    pytester.makepyfile(test_x="def test_ok():\n    pass\n")
    proc, report, data, sig = run_private(pytester, {}, private=b"{not json")
    assert report is not None, proc.stderr.decode()
    assert any("malformed" in p for p in report["integrity"]), report["integrity"]
    assert sig is None


def test_no_private_channel_no_signature(pytester):
    pytester.makepyfile(test_x="def test_ok():\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "djgrade_pytest", "--djgrade-report=" + REPORT)
    assert result.ret == 0
    assert json.loads((pytester.path / REPORT).read_text())["integrity"] == []
    assert not (pytester.path / (REPORT + ".sig")).exists()


def test_report_written_after_the_session_fails_the_signature(pytester):
    # An atexit handler rewrites the report after the plugin signed it.
    pytester.makeconftest("""
        import atexit, json

        def forge():
            with open(".djgrade/report.json", "w") as f:
                json.dump({"version": 1, "tests": [], "forged": True}, f)

        atexit.register(forge)
    """)
    pytester.makepyfile(test_x="def test_ok():\n    pass\n")
    proc, report, data, sig = run_private(pytester, {})
    assert report.get("forged") is True
    want = hmac.new(KEY, data, hashlib.sha256).hexdigest().encode()
    assert sig is not None and not hmac.compare_digest(sig, want)


SECRET = "CANDIDATE-CHOSEN-TEXT-" * 12

HIDDEN_PLAIN = """
    import pytest

    @pytest.mark.djgrade(points=1, category="correctness", name="Fails")
    def test_fails():
        assert 1 == 2
"""


def test_swapping_code_is_reported(pytester):
    # The reviewer's attack: no attribute is reassigned, only the __code__ of
    # functions the outcome depends on (the plugin's and pytest's), their
    # defaults, a closure cell; plus a method added to a plugin class and a
    # name added to a pytest module that shadows a builtin.
    pytester.makeini("[pytest]\npython_files = test_*.py\n")
    pytester.makepyfile(cheat="""
        import importlib as _il

        _m = _il.import_module("djgrade_py" + "test")
        _r = _il.import_module("_pytest.run" + "ner")

        def _o(self):
            return "passed"

        _m._TestEntry.outcome.__code__ = _o.__code__

        _real = _r.call_and_report

        def _car(item, when, log=True, **kwds):
            return _real(item, when, log, **kwds)

        def _swap():
            _r.call_and_report.__code__ = _car.__code__
            _m.cap_message.__defaults__ = (10,)
            _m._marker_values.__globals__["_MARKER"] = "other"
            _m._Wrapped.extra = lambda self: None
            _r.isinstance = lambda *a: True
            # A closure cell of a hook (the list the hooks keep problems in
            # or any other): what it holds is replaced.
            for fn in (_m.pytest_configure, _m.pytest_ignore_collect):
                for cell in fn.__closure__ or ():
                    if isinstance(cell.cell_contents, dict):
                        cell.cell_contents = dict(cell.cell_contents)
                        return
    """)
    pytester.makepyfile(test_public="""
        import cheat

        def test_swap():
            cheat._swap()
    """)
    proc, report, data, sig = run_private(pytester, {"djgrade_hidden/test_hidden.py": HIDDEN_PLAIN})
    assert report is not None, proc.stderr.decode()
    problems = report["integrity"]
    text = "\n".join(problems)
    assert "djgrade_pytest._TestEntry was changed" in problems, text
    assert "_pytest.runner.call_and_report was changed" in problems, text
    assert "djgrade_pytest.cap_message was changed" in problems, text
    assert "djgrade_pytest._MARKER was replaced" in problems, text
    assert "djgrade_pytest._Wrapped was changed" in problems, text
    assert "names were added to or removed from _pytest.runner" in problems, text
    assert any(p.startswith("djgrade_pytest.pytest_") and p.endswith(" was changed") for p in problems), text
    assert_signed(data, sig)


def test_hook_with_a_forged_file_name_is_unknown(pytester):
    # compile() takes any file name: code claiming to be the plugin's or
    # pytest's is still the candidate's. Its name is the candidate's too,
    # and stays out of the report.
    pytester.makeini("[pytest]\npython_files = test_*.py\n")
    pytester.makepyfile(cheat="""
        import gc
        import types
        import _pytest.runner
        import _pytest.skipping
        import djgrade_pytest

        SECRET = %r

        def forged(filename, hook, args):
            src = "def %%s(%%s):\\n    return None\\n" %% (hook, args)
            ns = dict(vars(_pytest.skipping))
            exec(compile(src, filename, "exec"), ns)
            fn = types.FunctionType(ns[hook].__code__, vars(_pytest.skipping), SECRET)
            fn.__qualname__ = SECRET
            return fn

        def install():
            plugin = types.ModuleType(SECRET)
            plugin.pytest_runtest_makereport = forged(djgrade_pytest.__file__, "pytest_runtest_makereport", "item, call")
            plugin.pytest_pyfunc_call = forged(_pytest.runner.__file__, "pytest_pyfunc_call", "pyfuncitem")
            for obj in gc.get_objects():
                if type(obj).__name__ == "Config" and hasattr(obj, "pluginmanager"):
                    obj.pluginmanager.register(plugin, SECRET)
    """ % SECRET)
    pytester.makepyfile(test_public="""
        import cheat

        def test_install():
            cheat.install()
    """)
    proc, report, data, sig = run_private(pytester, {"djgrade_hidden/test_hidden.py": HIDDEN_PLAIN})
    assert report is not None, proc.stderr.decode()
    problems = report["integrity"]
    assert "an unknown implementation of pytest_runtest_makereport was registered by the end of the session" in problems, (problems, proc.stdout.decode())
    assert "an unknown implementation of pytest_pyfunc_call was registered by the end of the session" in problems, problems
    assert not any("CANDIDATE-CHOSEN" in p for p in problems), problems
    assert_signed(data, sig)


def test_clean_run_has_no_integrity_problems(pytester):
    # The hidden conftest's hooks and fixtures, pytest's own plugins and the
    # legacypath properties pytest adds to its classes are not problems.
    pytester.makeini("[pytest]\npython_files = test_*.py\n")
    pytester.makeconftest("""
        def pytest_runtest_setup(item):
            pass
    """)
    pytester.makepyfile(test_public="""
        import warnings

        def test_ok(tmpdir, request):
            assert request.fspath
            warnings.warn("a warning")
    """)
    proc, report, data, sig = run_private(pytester, {
        "djgrade_hidden/conftest.py": HIDDEN_CONFTEST + "\n    def pytest_runtest_call(item):\n        pass\n",
        "djgrade_hidden/test_hidden.py": HIDDEN_TEST,
    })
    assert report is not None, proc.stderr.decode()
    assert report["integrity"] == [], (report["integrity"], proc.stdout.decode())
    assert outcomes(report)["test_public.py::test_ok"] == "passed"
    assert_signed(data, sig)
