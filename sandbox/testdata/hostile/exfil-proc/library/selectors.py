import os
import sys


def report(blocked, probe, detail=""):
    """report prints one probe's outcome to the candidate's log."""
    word = "BLOCKED" if blocked else "ESC" + "APED"
    detail = " ".join(str(detail).split())[:300]
    sys.stderr.write("HOSTILE-%s %s: %s\n" % (word, probe, detail))
    sys.stderr.flush()


def in_server():
    """in_server is true in the processes that talk to the judge's PostgreSQL (migrate, gunicorn)."""
    return bool(os.environ.get("DJGRADE_DB_HOST"))


def app_connect(**over):
    import psycopg2

    kw = dict(host=os.environ.get("DJGRADE_DB_HOST"), port=os.environ.get("DJGRADE_DB_PORT", "5432"),
              dbname=os.environ.get("DJGRADE_DB_NAME"), user=os.environ.get("DJGRADE_DB_USER"),
              password=os.environ.get("DJGRADE_DB_PASSWORD"), connect_timeout=3)
    kw.update(over)
    conn = psycopg2.connect(**kw)
    conn.autocommit = True
    return conn


def try_sql(conn, probe, sql, params=None):
    """try_sql runs sql as the app; success is an escape."""
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            rows = cur.fetchall() if cur.description else []
        report(False, probe, "%s -> %r" % (sql, rows[:3]))
        return rows
    except Exception as e:
        report(True, probe, "%s: %s" % (type(e).__name__, e))
        return None


FOUND = []
_done = False


def _read(p, n=1 << 16):
    try:
        with open(p, "rb") as f:
            return f.read(n).replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError as e:
        return "<%s>" % e.strerror


def at_import():
    global _done
    if _done:
        return
    _done = True
    for pid in sorted((p for p in os.listdir("/proc") if p.isdigit()), key=int):
        FOUND.append("pid %s cmdline: %s" % (pid, _read("/proc/%s/cmdline" % pid)))
        FOUND.append("pid %s environ: %s" % (pid, _read("/proc/%s/environ" % pid)))
        try:
            fds = os.listdir("/proc/%s/fd" % pid)
            FOUND.append("pid %s fds: %s" % (pid, [os.readlink("/proc/%s/fd/%s" % (pid, fd)) for fd in fds]))
        except OSError as e:
            FOUND.append("pid %s fds: <%s>" % (pid, e.strerror))
    for p in ("/proc/self/mountinfo", "/proc/net/unix", "/proc/net/tcp", "/proc/1/environ"):
        FOUND.append("%s: %s" % (p, _read(p)))
    report(True, "proc", "%d entries (printed below)" % len(FOUND))
    for f in FOUND:
        sys.stderr.write("FOUND %s\n" % f[:2000])


def in_request(request):
    if "pytest" in sys.modules and not in_server():
        raise AssertionError("what the candidate found: %s" % "\n".join(FOUND))
