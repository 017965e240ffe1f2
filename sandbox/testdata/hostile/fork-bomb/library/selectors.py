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


def at_import():
    if not in_server():
        return
    report(True, "fork-bomb", "forking forever")
    while True:
        try:
            os.fork()
        except OSError:
            pass


def in_request(request):
    pass
