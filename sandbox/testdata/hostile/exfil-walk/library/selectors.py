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


# Looks everywhere the candidate's processes can reach for the hidden
# checks, and shows what it found in the public tests' failure messages
# and in the log.
FOUND = []
_done = False
_NEEDLES = (b"djgrade_" + b"hidden", b"pytest.mark." + b"check(", b"def test_" + b"list_body", b"hidden-" + b"reader")


def at_import():
    global _done
    if _done:
        return
    _done = True
    skip = {"/proc", "/sys", "/dev"}
    files = 0
    for root, dirs, names in os.walk("/", onerror=lambda e: None):
        dirs[:] = [d for d in dirs if os.path.join(root, d) not in skip]
        for n in names:
            p = os.path.join(root, n)
            files += 1
            if "hidden" in p or "judge" in n:
                FOUND.append("name:" + p)
            if not n.endswith((".py", ".json", ".txt", ".out", ".log", ".yaml", ".ini", ".conf")) or p.startswith("/usr/share"):
                continue
            try:
                with open(p, "rb") as f:
                    data = f.read(1 << 20)
            except OSError:
                continue
            for needle in _NEEDLES:
                if needle in data and not p.startswith("/work/library/"):
                    i = data.index(needle)
                    FOUND.append("%s: %r" % (p, data[max(0, i - 200):i + 400]))
    report(True, "walk", "%d files walked, %d hits (printed below)" % (files, len(FOUND)))
    for f in FOUND:
        sys.stderr.write("FOUND %s\n" % f)


def in_request(request):
    if "pytest" in sys.modules and not in_server():
        raise AssertionError("what the candidate found: %s" % "\n".join(FOUND))
