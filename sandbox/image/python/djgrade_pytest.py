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

The private channel. When DJGRADE_PRIVATE_FD names a descriptor (the sandbox's
init passes a pipe as 3), the plugin reads it to EOF when it is imported,
which ``-p`` does before any conftest, settings or candidate module runs,
closes it and removes the variable. It carries JSON:
``{"key": "<hex>", "hidden": [{"path": "djgrade_hidden/...", "source": "..."}]}``.

- The key signs the report: HMAC-SHA256 over the exact bytes of the report,
  in hex, written to the report path + ".sig" (the same atomic write). The
  key goes straight into an OpenSSL HMAC state held in a closure; the sealer
  signs once. The grader gives "tampered" to a report whose signature is
  missing or wrong.
- The hidden tests never touch the disk: each hidden path gets an empty
  placeholder file, so pytest's ordinary collection finds it (and node ids
  stay ``djgrade_hidden/...``), but the module pytest collects is built from
  the in-memory source, with pytest's assertion rewriting applied, under a
  module name no candidate file can have. A hidden conftest.py is executed
  from memory and registered as a conftest plugin (its fixtures are scoped to
  its folder as usual). Hidden modules import their siblings (``from conftest
  import X``) from memory too. Nothing is put in linecache, so tracebacks
  show no hidden source lines.
- Integrity: at import the plugin keeps references to the pytest internals
  the outcome depends on (runner, reports, the python plugin, pluggy's call
  loop, json's encoder, its own hooks and classes), and it remembers each
  hidden test function and its code. At the end of the session it checks
  they are all still the same objects and that none was changed in place:
  a function's __code__, defaults and closure cells, a property's
  functions, a class's set of attributes, a module's set of names are
  compared with what they were before any candidate code ran. It checks
  that no unknown hook implementation takes part in running or reporting
  tests: one is known only as the plugin's own function (by identity), or
  by its code object, compiled from a hidden module or found in the Python
  installation's modules before candidate code ran, or as a function of a
  conftest that was in the workspace when the plugin was imported; a
  code's file name proves nothing, compile() takes any. It also checks
  that sys.modules still maps this plugin's name to itself and that the
  djgrade_hidden folder holds only the placeholders. Problems go into the
  report's "integrity" list, in fixed words and names recorded before any
  candidate code ran, never a name or text the candidate chose; the grader
  gives "tampered" to a report whose list is not empty.

Residual risk, said plainly: the candidate's code runs in this very process.
Code in the same process can in principle find anything in memory: walk the
garbage collector to the sealer's closure and sign a forged report before we
do, read the compiled hidden test functions, or patch an internal we do not
watch. What djgrade guarantees is narrower and holds: no file the candidate
writes and nothing it prints can forge a grade (a report needs the per-run
key, which is never on disk, in the environment or in the workspace), and the
hidden tests' sources are never on disk, in linecache or in any output, so
reading files cannot reveal them. Patching pytest or this plugin the obvious
ways (assigning to a module or class attribute, registering a plugin,
replacing a hidden test) is detected and ends as "tampered".
"""

import ast
import builtins
import hmac
import json
import json.encoder
import os
import pathlib
import sys
import sysconfig
import tempfile
import traceback
import types

import pluggy
import pluggy._callers
import pytest
import _pytest.config
import _pytest.legacypath
import _pytest.main
import _pytest.python
import _pytest.reports
import _pytest.runner
import _pytest.skipping
from _pytest._code import ExceptionInfo
from _pytest.assertion.rewrite import rewrite_asserts

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
    """_TestEntry accumulates the phase reports of one test.

    It has slots and no instance dict, so no attribute set on an entry can
    shadow one of its methods."""

    __slots__ = ("nodeid", "name", "points", "category", "reports", "duration", "queries")

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
            "outcome": _TestEntry.outcome(self),
            "duration": round(self.duration, 6),
            "points": self.points,
            "category": self.category,
            "message": _TestEntry.message(self),
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


def _encode_report(document):
    """_encode_report is the exact byte form of a report: what is signed is
    what is written."""
    return json.dumps(document, indent=1, sort_keys=True).encode("utf-8")


def _atomic_write(path, data):
    """_atomic_write writes data to path through a temporary file in the same
    folder and a rename, so a reader never sees half a file even if the
    process is killed while writing."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
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


def write_report(path, document, seal=None):
    """write_report writes document as JSON to path atomically.

    With seal (a function of the report's bytes returning its signature, or
    None when it refuses), the signature is written to path + ".sig" the
    same way, report first. Without a signature any old .sig is removed, so
    a stale one can never pair with a new report.
    """
    data = _encode_report(document)
    _atomic_write(path, data)
    sig = seal(data) if seal is not None else None
    if sig is not None:
        _atomic_write(path + SIG_SUFFIX, sig.encode("ascii"))
    else:
        try:
            os.unlink(path + SIG_SUFFIX)
        except OSError:
            pass


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


PRIVATE_FD_ENV = "DJGRADE_PRIVATE_FD"
# MAX_PRIVATE_BYTES matches grader.MaxPrivateBytes.
MAX_PRIVATE_BYTES = 4 << 20
HIDDEN_DIR = "djgrade_hidden"
SIG_SUFFIX = ".sig"
# Caps on the integrity list, so a flood of problems cannot bloat the report.
MAX_PROBLEMS = 50
MAX_PROBLEM_CHARS = 300

_RECORDER_NAME = "djgrade-recorder"

# Hooks whose implementations decide what runs and what outcome is reported.
_CRITICAL_HOOKS = (
    "pytest_collection", "pytest_collection_modifyitems", "pytest_itemcollected",
    "pytest_deselected", "pytest_make_collect_report", "pytest_collectreport",
    "pytest_pycollect_makeitem", "pytest_pycollect_makemodule", "pytest_collect_file",
    "pytest_ignore_collect", "pytest_runtestloop", "pytest_runtest_protocol",
    "pytest_runtest_setup", "pytest_runtest_call", "pytest_runtest_teardown",
    "pytest_runtest_makereport", "pytest_runtest_logreport", "pytest_pyfunc_call",
    "pytest_report_teststatus", "pytest_sessionfinish",
)


def _clean_hidden_path(path):
    """_clean_hidden_path returns path if it is a clean relative .py path
    below HIDDEN_DIR, else None."""
    if not isinstance(path, str) or "\\" in path or "\x00" in path or path.startswith("/"):
        return None
    parts = path.split("/")
    if len(parts) < 2 or parts[0] != HIDDEN_DIR or any(p in ("", ".", "..") for p in parts):
        return None
    if not path.endswith(".py"):
        return None
    return path


def _take_private():
    """_take_private reads the private channel, if there is one, and returns
    (key bytes or None, [(path, source)], [problems])."""
    raw = os.environ.pop(PRIVATE_FD_ENV, None)
    if raw is None:
        return None, [], []
    try:
        fd = int(raw)
    except ValueError:
        return None, [], ["%s=%r is not a descriptor" % (PRIVATE_FD_ENV, raw)]
    chunks, n, problems = [], 0, []
    try:
        while True:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                break
            n += len(chunk)
            if n > MAX_PRIVATE_BYTES:
                problems.append("the private channel carries more than %d bytes" % MAX_PRIVATE_BYTES)
                break
            chunks.append(chunk)
    except OSError as e:
        problems.append("cannot read the private channel: %s" % e)
    finally:
        try:
            os.close(fd)
        except OSError:
            pass
    if problems:
        return None, [], problems
    try:
        doc = json.loads(b"".join(chunks).decode("utf-8"))
        key = bytes.fromhex(doc["key"])
        hidden = []
        for h in doc.get("hidden") or []:
            path = _clean_hidden_path(h.get("path"))
            source = h.get("source")
            if path is None or not isinstance(source, str):
                raise ValueError("bad hidden entry %r" % (h.get("path"),))
            hidden.append((path, source))
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        return None, [], ["the private channel is malformed: %s" % e]
    if len(key) < 16:
        return None, [], ["the private channel's key is too short"]
    return key, hidden, []


def _make_sealer(key):
    """_make_sealer returns a function that signs report bytes once.

    The key goes into OpenSSL's HMAC state at once (hmac.new with a digest
    name takes that path and keeps no Python copy of the key); the sealer
    refuses a second use, which is reported as an integrity problem.
    """
    mac = hmac.new(key, digestmod="sha256")
    used = []

    def seal(data):
        if used:
            used.append(True)
            return None
        used.append(True)
        m = mac.copy()
        m.update(data)
        return m.hexdigest()

    def uses():
        return len(used)

    return seal, uses


def _code_origin(fn):
    """_code_origin returns the file a function's code claims to come from."""
    fn = getattr(fn, "__func__", fn)
    code = getattr(fn, "__code__", None)
    if code is None:
        return None
    return os.path.realpath(code.co_filename)


def _install_dirs():
    """_install_dirs are the folders of the Python installation: code there
    was not written by the candidate."""
    dirs = set()
    for name in ("stdlib", "platstdlib", "purelib", "platlib"):
        p = sysconfig.get_paths().get(name)
        if p:
            dirs.add(os.path.realpath(p))
    for mod in (pytest, _pytest.main, pluggy):
        dirs.add(os.path.realpath(os.path.dirname(os.path.dirname(mod.__file__))))
    return tuple(sorted(d.rstrip("/") + "/" for d in dirs))


def _conftests_below(root, limit=2000):
    """_conftests_below lists the conftest.py files under root (the workspace
    as the grader assembled it, before any candidate code ran)."""
    found, seen = set(), 0
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d != "__pycache__" and d != HIDDEN_DIR]
        seen += len(files)
        if seen > limit:
            break
        if "conftest.py" in files:
            found.add(os.path.realpath(os.path.join(folder, "conftest.py")))
    return found


# _EMPTY_CELL stands for a closure cell that holds nothing yet.
_EMPTY_CELL = object()
# Class attributes Python and pytest add after a class is made (on first use
# of annotations, on first copy or pickle, pytest's once-per-class warning
# about an Item that is also a Collector, its wrapped --pdb class): not a
# change anyone made.
_LAZY_CLASS_KEYS = frozenset(("__annotations__", "__slotnames__",
                              "_pytest_diamond_inheritance_warning_shown", "_wrapped_pdb_cls"))
# pytest's legacypath plugin adds these class attributes (py.path
# properties, Config._getini_unknown_type) when the initial conftests load:
# one of them is not a change when it is the original or legacypath's own.
_LEGACY_KEYS = frozenset(("makedir", "fspath", "startdir", "invocation_dir", "rootdir", "inifile",
                          "_getini_unknown_type"))
_LEGACY_ORIGINALS = tuple(v for v in (vars(_pytest.config.Config).get("_getini_unknown_type"),) if v is not None)


def _legacy_codes():
    codes = {}
    for v in list(vars(_pytest.legacypath).values()):
        if isinstance(v, types.FunctionType) and v.__globals__ is vars(_pytest.legacypath):
            _code_tree(v.__code__, codes)
    return codes


def _legacy_ok(value):
    """_legacy_ok reports whether a class attribute of a _LEGACY_KEYS name is
    the original or what pytest's legacypath plugin puts there."""
    if any(value is v for v in _LEGACY_ORIGINALS):
        return True
    fns = [value]
    if isinstance(value, property):
        fns = [f for f in (value.fget, value.fset, value.fdel) if f is not None]
    for fn in fns:
        if not isinstance(fn, types.FunctionType) or fn.__globals__ is not vars(_pytest.legacypath):
            return False
        if _LEGACY_CODES.get(id(fn.__code__)) is not fn.__code__:
            return False
    return bool(fns)


_FUNCTION_LIKE = (types.FunctionType, types.MethodType, classmethod, staticmethod, property, type)
_MAX_DEPTH = 8


def _parts(obj, out=None, seen=None, depth=0):
    """_parts lists every object whose identity decides what obj does.

    For a function: itself, its code, defaults, keyword defaults and what its
    closure cells hold (functions and classes there are followed too); for a
    method, classmethod, staticmethod or property: what they wrap; for a
    class: each attribute's name and parts, in order. Two lists with the same
    objects at every place (compared by identity, see _same) mean nothing was
    swapped: not a method, not its __code__, not a default or a cell.
    """
    if out is None:
        out, seen = [], set()
    out.append(obj)
    if not isinstance(obj, _FUNCTION_LIKE) or id(obj) in seen or depth > _MAX_DEPTH:
        return out
    # obj stays referenced by out, so its id cannot be reused during the walk.
    seen.add(id(obj))
    depth += 1
    if isinstance(obj, types.MethodType):
        out.append(obj.__self__)
        _parts(obj.__func__, out, seen, depth)
    elif isinstance(obj, (classmethod, staticmethod)):
        _parts(obj.__func__, out, seen, depth)
    elif isinstance(obj, property):
        for f in (obj.fget, obj.fset, obj.fdel):
            _parts(f, out, seen, depth)
    elif isinstance(obj, types.FunctionType):
        out.append(obj.__code__)
        out.append(obj.__defaults__)
        kw = obj.__kwdefaults__
        out.append(kw)
        if kw:
            for k in sorted(kw):
                out.append(k)
                out.append(kw[k])
        for cell in obj.__closure__ or ():
            try:
                value = cell.cell_contents
            except ValueError:
                value = _EMPTY_CELL
            _parts(value, out, seen, depth)
    else:  # a class
        for k, v in list(vars(obj).items()):
            if k in _LAZY_CLASS_KEYS or (k in _LEGACY_KEYS and _legacy_ok(v)):
                continue
            out.append(k)
            _parts(v, out, seen, depth)
    return out


def _plain_names(ns):
    """_plain_names is the set of a namespace's names without dunders, which
    Python sets by itself (__warningregistry__ on a warning, say) and which
    no lookup of a function's global or builtin name goes through."""
    return frozenset(n for n in ns if not (n.startswith("__") and n.endswith("__")))


def _same(a, b):
    """_same reports whether two _parts lists hold the same objects."""
    return len(a) == len(b) and all(x is y for x, y in zip(a, b))


def _code_tree(code, out):
    """_code_tree adds code and every code object nested in it to out, by id."""
    out[id(code)] = code
    for c in code.co_consts:
        if isinstance(c, types.CodeType) and id(c) not in out:
            _code_tree(c, out)
    return out


_LEGACY_CODES = _legacy_codes()


def _build(key, hidden_files, load_problems):
    """_build makes the plugin's hooks. Everything secret lives in their
    closures: the sealer, the hidden sources and the loaded hidden modules.
    It returns the names to publish as module attributes (pytest looks hooks
    up by name on the module)."""
    this = sys.modules[__name__]
    root = os.path.realpath(os.getcwd())
    seal, seal_uses = _make_sealer(key) if key is not None else (None, lambda: 0)
    problems = list(load_problems)
    install_dirs = _install_dirs()
    this_file = os.path.realpath(__file__)
    workspace_conftests = _conftests_below(root)

    # Hidden files by absolute path, and the placeholders pytest collects.
    sources = {}
    for rel, source in hidden_files:
        sources[os.path.join(root, rel)] = source
    placeholders = set()
    for path in sources:
        if os.path.basename(path) in ("conftest.py", "__init__.py"):
            continue
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
            os.close(fd)
            placeholders.add(path)
        except OSError as e:
            problems.append("cannot create the placeholder of %s: %s" % (os.path.relpath(path, root), e))
    hidden_root = os.path.join(root, HIDDEN_DIR)
    tag = os.urandom(4).hex()
    modules = {}       # absolute path -> module (loaded or loading)
    originals = {}     # absolute path -> [(owner, name, object, code)]
    real_import = builtins.__import__
    modname = this.__name__
    # Code objects that hook implementations may run, by id: compiled from
    # the hidden sources, and found in the Python installation's modules
    # before any candidate code ran (with the globals their functions use).
    # A code object cannot be changed, and one a candidate compiles, under
    # whatever file name, is never among them.
    hidden_codes = {}
    install_codes = {}
    install_seen = {}  # module name -> module already walked

    def module_name(path):
        rel = os.path.relpath(path, hidden_root)[:-3].replace("/", "__")
        return "_djgrade_hidden_%s_%s" % (tag, rel)

    def sibling_import(folder):
        """sibling_import is the __import__ of hidden modules in folder: a
        top-level name of a hidden file there is served from memory."""
        def imp(name, globals=None, locals=None, fromlist=(), level=0):
            if level == 0:
                path = os.path.join(folder, name + ".py")
                if path in sources:
                    return load(path, None)
            return real_import(name, globals, locals, fromlist, level)
        return imp

    def load(path, config):
        """load executes one hidden file from memory (once) and returns its
        module. A conftest.py is also registered as a conftest plugin."""
        mod = modules.get(path)
        if mod is not None:
            return mod
        if config is None:
            config = report_config[0]
        folder = os.path.dirname(path)
        if os.path.basename(path) != "conftest.py":
            ensure_conftests(folder, config)
        source = sources[path]
        if source is None:
            raise ImportError("hidden module %s failed to load before" % os.path.relpath(path, root))
        # The source is dropped once compiled: what stays in memory is code,
        # so candidate code that walks this closure finds no text to leak.
        sources[path] = None
        mod = types.ModuleType(module_name(path))
        mod.__file__ = path
        bdict = dict(vars(builtins))
        bdict["__import__"] = sibling_import(folder)
        mod.__builtins__ = bdict
        tree = ast.parse(source, filename=path)
        rewrite_asserts(tree, source.encode("utf-8"), path, config)
        code = compile(tree, path, "exec", dont_inherit=True)
        del tree, source
        _code_tree(code, hidden_codes)
        modules[path] = mod
        sys.modules[mod.__name__] = mod
        try:
            exec(code, mod.__dict__)
        except BaseException:
            del modules[path]
            sys.modules.pop(mod.__name__, None)
            raise
        originals[path] = _snapshot_functions(mod)
        if os.path.basename(path) == "conftest.py" and config is not None:
            # The registration name is the conftest's path, which is what
            # scopes its fixtures to its folder, and what pytest's own
            # conftest loading looks up first: a file put at that path later
            # is never imported.
            config.pluginmanager.register(mod, name=path)
        return mod

    def ensure_conftests(folder, config):
        """ensure_conftests loads the hidden conftest.py files from the
        hidden root down to folder."""
        rel = os.path.relpath(folder, hidden_root)
        chain = [hidden_root]
        if rel != ".":
            for part in rel.split("/"):
                chain.append(os.path.join(chain[-1], part))
        for d in chain:
            c = os.path.join(d, "conftest.py")
            if c in sources:
                load(c, config)

    class HiddenModule(pytest.Module):
        """HiddenModule collects a hidden test module from memory; its file
        on disk is an empty placeholder."""

        def _getobj(self):
            try:
                return load(str(self.path), self.config)
            except Exception as e:
                raise self.CollectError(
                    "ImportError while importing hidden test module %s:\n%s"
                    % (self.nodeid, ExceptionInfo.from_current().getrepr(style="short"))
                ) from e

    # The objects the outcome depends on, as they are now, before any
    # candidate code ran: (label, namespace, attribute, object, parts). The
    # label is made now, from names pytest and this file chose: no problem
    # text ever holds a name a candidate could set later.
    watched = []
    # Namespaces whose set of names must not change: (label, namespace, names).
    namespaces = []

    def record(label, ns, name, obj):
        watched.append((label, ns, name, obj, _parts(obj)))

    def watch(owner, *names):
        prefix = owner.__name__
        for name in names:
            record("%s.%s" % (prefix, name), vars(owner), name, vars(owner).get(name))

    def watch_module(mod, ns=None, skip=()):
        """watch_module watches every name of a module, deeply for the
        functions and classes defined there, and its set of names (a name
        added to a module can shadow a builtin its functions use)."""
        ns = vars(mod) if ns is None else ns
        label = mod.__name__
        for name, obj in list(ns.items()):
            if name in skip or (name.startswith("__") and name.endswith("__")):
                continue
            record("%s.%s" % (label, name), vars(mod), name, obj)
        namespaces.append((label, vars(mod), _plain_names(ns)))

    watch(_pytest.runner, "call_and_report", "runtestprotocol", "call_runtest_hook",
          "check_interactive_exception", "pytest_runtest_protocol", "pytest_runtest_makereport",
          "pytest_runtest_setup", "pytest_runtest_call", "pytest_runtest_teardown", "CallInfo")
    watch(_pytest.runner.CallInfo, "from_call", "__init__")
    watch(_pytest.reports, "TestReport", "CollectReport", "BaseReport")
    watch(_pytest.reports.TestReport, "from_item_and_call", "__init__")
    watch(_pytest.reports.BaseReport, "passed", "failed", "skipped", "longreprtext")
    watch(_pytest.python, "pytest_pyfunc_call", "Function", "Module", "pytest_pycollect_makemodule",
          "pytest_collect_file", "pytest_pycollect_makeitem")
    watch(_pytest.python.Function, "runtest", "setup", "_getobj")
    watch(_pytest.python.Module, "_getobj", "collect")
    watch(_pytest.skipping, "pytest_runtest_makereport", "pytest_runtest_setup", "pytest_runtest_call",
          "evaluate_skip_marks", "evaluate_xfail_marks")
    watch(_pytest.main, "pytest_runtestloop", "pytest_collection", "Session")
    watch(pluggy._callers, "_multicall")
    watch(pluggy.PluginManager, "_hookexec", "register", "unregister")
    watch(pluggy.HookCaller, "__call__", "get_hookimpls")
    watch(json, "dumps")
    watch(json.encoder, "c_make_encoder", "encode_basestring", "encode_basestring_ascii", "_make_iterencode")
    watch(json.encoder.JSONEncoder, "encode", "iterencode")
    watch(hmac, "new", "HMAC")
    watch(sys, "modules")
    for mod in (_pytest.runner, _pytest.reports, _pytest.python, _pytest.skipping, _pytest.main,
                _pytest.outcomes, _pytest.nodes, pluggy._callers, pluggy._hooks, pluggy._manager,
                pluggy._result, json, json.encoder, hmac):
        watch_module(mod)
    # The builtins that code here and in pytest calls (isinstance, hasattr,
    # getattr, ...): the same objects at the end.
    for name, obj in list(vars(builtins).items()):
        if isinstance(obj, (types.BuiltinFunctionType, type)):
            record("builtins.%s" % name, vars(builtins), name, obj)

    def walk_installed():
        """walk_installed records the code of every function and method in
        the modules of the Python installation loaded so far. It runs at
        import and again just before the initial conftests load (after
        pytest's entry-point plugins, before any candidate code)."""
        for name, mod in list(sys.modules.items()):
            if install_seen.get(name) is mod or not isinstance(mod, types.ModuleType):
                continue
            install_seen[name] = mod
            try:
                ns = vars(mod)
                f = ns.get("__file__")
                if not isinstance(f, str) or not os.path.realpath(f).startswith(install_dirs):
                    continue
                for obj in list(ns.values()):
                    members = [obj]
                    if isinstance(obj, type):
                        members = list(vars(obj).values())
                    for m in members:
                        if isinstance(m, (classmethod, staticmethod)):
                            m = m.__func__
                        elif isinstance(m, property):
                            m = m.fget
                        for fn in (m,):
                            if isinstance(fn, types.FunctionType):
                                for code in _code_tree(fn.__code__, {}).values():
                                    install_codes.setdefault(id(code), (code, fn.__globals__))
            except Exception:
                continue

    walk_installed()

    def add_problem(text):
        text = cap_message(text, MAX_PROBLEM_CHARS)
        if text not in problems and len(problems) < MAX_PROBLEMS:
            problems.append(text)

    def trusted_impl(impl):
        """trusted_impl reports whether a hook implementation is code the
        candidate did not write. A code object's file name proves nothing
        (compile() takes any), so: the plugin's own functions by identity,
        with their recorded code; the hidden modules' and the Python
        installation's code objects by identity (the latter with their own
        module's globals); a workspace conftest's functions only as that
        conftest module's own."""
        fn = impl.function
        raw = fn.__func__ if isinstance(fn, types.MethodType) else fn
        if not isinstance(raw, types.FunctionType):
            # None of pytest's hooks is a C function.
            return False
        known = own_functions.get(id(raw))
        if known is not None:
            return known[0] is raw and known[1] is raw.__code__
        code = raw.__code__
        if hidden_codes.get(id(code)) is code:
            return True
        known = install_codes.get(id(code))
        if known is not None and known[0] is code:
            return known[1] is raw.__globals__
        origin = _code_origin(raw)
        if origin in workspace_conftests:
            plugin = impl.plugin
            return (isinstance(plugin, types.ModuleType)
                    and raw.__globals__ is vars(plugin)
                    and os.path.realpath(str(vars(plugin).get("__file__") or "")) == origin)
        return False

    def check_hooks(pm, where):
        for name in _CRITICAL_HOOKS:
            caller = getattr(pm.hook, name, None)
            if caller is None:
                continue
            for impl in caller.get_hookimpls():
                if not trusted_impl(impl):
                    # Fixed words and the hook's name from our own list:
                    # nothing of the implementation (its name, its file)
                    # is text the candidate could not have chosen.
                    add_problem("an unknown implementation of %s was registered %s" % (name, where))

    def check_watched():
        for label, ns, name, obj, parts in watched:
            if ns.get(name) is not obj:
                add_problem("%s was replaced" % label)
            elif not _same(_parts(obj), parts):
                add_problem("%s was changed" % label)
        for label, ns, names in namespaces:
            if _plain_names(ns) != names:
                add_problem("names were added to or removed from %s" % label)

    def check_all(config):
        check_watched()
        if sys.modules.get(modname) is not this:
            add_problem("sys.modules no longer maps %s to the plugin" % modname)
        pm = config.pluginmanager
        if not pm.is_registered(this):
            add_problem("the djgrade plugin was unregistered")
        if getattr(pm, "_inner_hookexec", None) is not inner_hookexec.get(id(pm), pm._inner_hookexec):
            add_problem("pluggy's hook caller was replaced")
        check_hooks(pm, "by the end of the session")
        for path, entries in originals.items():
            mod = modules.get(path)
            for owner, name, obj, parts in entries:
                if vars(owner).get(name, _EMPTY_CELL) is not obj:
                    add_problem("hidden %s: %s was replaced" % (os.path.relpath(path, root), name))
                elif not _same(_parts(obj), parts):
                    add_problem("hidden %s: %s was changed" % (os.path.relpath(path, root), name))
            if mod is not None and sys.modules.get(mod.__name__) is not mod:
                add_problem("hidden module %s was replaced in sys.modules" % os.path.relpath(path, root))
        patterns = config.getini("python_files")
        for path in placeholders:
            if path not in modules and _pytest.python.path_matches_patterns(pathlib.Path(path), patterns):
                add_problem("hidden module %s was never collected" % os.path.relpath(path, root))
            try:
                if os.lstat(path).st_size != 0:
                    add_problem("the placeholder of %s was written to" % os.path.relpath(path, root))
            except OSError:
                add_problem("the placeholder of %s was removed" % os.path.relpath(path, root))
        for folder, dirs, files in os.walk(hidden_root):
            dirs[:] = [d for d in dirs if d != "__pycache__"]
            for f in files:
                p = os.path.join(folder, f)
                if p not in placeholders:
                    # Not the file's name: the candidate chose it.
                    add_problem("an unexpected file was found in %s" % HIDDEN_DIR)
        if seal is not None and seal_uses() != 0:
            add_problem("the report was sealed before the session ended")

    inner_hookexec = {}

    def document_for(rec, exitstatus):
        doc = rec.document(exitstatus)
        doc["integrity"] = list(problems)
        return doc

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
            if report.nodeid.startswith(HIDDEN_DIR + "/") and report.when == "call":
                check_hooks(report_config[0].pluginmanager, "while a hidden test ran")

        @pytest.hookimpl(trylast=True)
        def pytest_sessionfinish(self, session, exitstatus):
            if session.config.pluginmanager.get_plugin(_RECORDER_NAME) is not self:
                add_problem("the djgrade recorder was replaced")
            # check_all checks this method; this checks check_all.
            if not _same(_parts(check_all), checker_parts):
                add_problem("%s's integrity check was changed" % modname)
            check_all(session.config)
            if self.path is not None:
                write_report(self.path, document_for(self, exitstatus), seal)

    report_config = [None]

    @pytest.hookimpl(hookwrapper=True)
    def pytest_load_initial_conftests(early_config, parser, args):
        # A failing root conftest or Django setup (settings, models, apps) ends
        # pytest before a session exists, so no later hook would write a report.
        # Write one here so the grader can tell "the project does not import"
        # from "the sandbox broke".
        # The last moment before candidate code: pytest's entry-point
        # plugins (pytest-django) are loaded, no conftest or settings yet.
        walk_installed()
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
            write_report(path, document_for(rec, pytest.ExitCode.USAGE_ERROR), seal)
        except OSError:
            pass

    def pytest_configure(config):
        config.addinivalue_line("markers", _MARKER_HELP)
        path = _report_path(config.option, config.invocation_params.dir)
        report_config[0] = config
        inner_hookexec[id(config.pluginmanager)] = config.pluginmanager._inner_hookexec
        # Hooks such as pytest_runtest_logreport get no config, so the state
        # lives on a plugin object registered for this config only.
        config.pluginmanager.register(_Recorder(path), _RECORDER_NAME)

    def pytest_unconfigure(config):
        # An in-process run (pytester, pytest.main) configures again in the same
        # interpreter; each run must start with its own recorder.
        plugin = config.pluginmanager.get_plugin(_RECORDER_NAME)
        if plugin is not None:
            config.pluginmanager.unregister(plugin)

    @pytest.hookimpl(tryfirst=True)
    def pytest_pycollect_makemodule(module_path, parent):
        if str(module_path) in placeholders:
            return HiddenModule.from_parent(parent, path=module_path)
        return None

    @pytest.hookimpl(tryfirst=True)
    def pytest_ignore_collect(collection_path, config):
        p = str(collection_path)
        if p == hidden_root or not p.startswith(hidden_root + "/") or os.path.isdir(p):
            return None
        if p in placeholders:
            return None
        if p.endswith(".py"):
            # A file the grader did not put there: never collect it.
            add_problem("an unexpected file was found in %s" % HIDDEN_DIR)
            return True
        return None

    hooks = {
        "pytest_load_initial_conftests": pytest_load_initial_conftests,
        "pytest_configure": pytest_configure,
        "pytest_unconfigure": pytest_unconfigure,
        "pytest_pycollect_makemodule": pytest_pycollect_makemodule,
        "pytest_ignore_collect": pytest_ignore_collect,
    }
    # The plugin's own code, checked like pytest's but all of it: every name
    # of the module as it will be once the hooks are published (functions
    # and classes deeply: methods, their code, defaults, closures, a
    # class's set of attributes), and the functions and classes that live
    # only in the hooks' closures.
    # Filled in below, once everything they check exists; made here so
    # that the closures recorded see them already bound.
    own_functions = {}
    checker_parts = []
    module_ns = dict(vars(this))
    module_ns.update(hooks)
    watch_module(this, module_ns, skip=("__builtins__", "__cached__", "__loader__", "__spec__"))
    inner = {
        "_Recorder": _Recorder, "HiddenModule": HiddenModule, "check_all": check_all,
        "check_watched": check_watched, "check_hooks": check_hooks, "trusted_impl": trusted_impl,
        "add_problem": add_problem, "document_for": document_for, "load": load,
        "ensure_conftests": ensure_conftests, "sibling_import": sibling_import,
        "walk_installed": walk_installed, "seal": seal, "seal_uses": seal_uses,
    }
    for name, obj in inner.items():
        record("%s's %s" % (modname, name), inner, name, obj)
    # Every function of this file reachable from the above, by identity,
    # with its code: the hook implementations the plugin may register.
    for _, _, _, _, parts in watched:
        for obj in parts:
            if (isinstance(obj, types.FunctionType) and id(obj) not in own_functions
                    and _code_origin(obj) == this_file):
                own_functions[id(obj)] = (obj, obj.__code__)
    checker_parts.extend(_parts(check_all))
    return hooks


def _snapshot_functions(mod):
    """_snapshot_functions lists the functions of a hidden module, and those
    of its classes, with their parts (code, defaults, closure): (owner, name,
    object, parts)."""
    out = []
    for name, obj in list(vars(mod).items()):
        if isinstance(obj, types.FunctionType) and obj.__module__ == mod.__name__:
            out.append((mod, name, obj, _parts(obj)))
        elif isinstance(obj, type) and obj.__module__ == mod.__name__:
            for cname, cobj in list(vars(obj).items()):
                if isinstance(cobj, (types.FunctionType, classmethod, staticmethod, property)):
                    out.append((obj, cname, cobj, _parts(cobj)))
    return out


globals().update(_build(*_take_private()))
