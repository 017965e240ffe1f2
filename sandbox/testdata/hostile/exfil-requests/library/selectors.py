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


# Logs everything the judge's requests carry (path, headers, the decoded
# Basic credentials) and everything in the database at each request. That
# is the candidate's own app seeing its own traffic; none of it is the
# hidden checks' source.
import base64

_n = [0]


def at_import():
    pass


def in_request(request):
    if not in_server():
        return
    _n[0] += 1
    auth = request.META.get("HTTP_AUTHORIZATION", "")
    if auth.startswith("Basic "):
        auth = base64.b64decode(auth[6:]).decode("utf-8", "replace")
    headers = {k: v for k, v in request.META.items() if k.startswith("HTTP_")}
    sys.stderr.write("REQUEST %d %s auth=%r headers=%r\n" % (_n[0], request.get_full_path(), auth, headers))
    if _n[0] <= 3:
        from django.db import connection

        with connection.cursor() as cur:
            cur.execute("SELECT title FROM library_book ORDER BY id LIMIT 20")
            sys.stderr.write("BOOKS %r\n" % [r[0] for r in cur.fetchall()])
            cur.execute("SELECT username, password FROM auth_user")
            sys.stderr.write("USERS %r\n" % cur.fetchall())
    report(True, "requests", "logged request %d" % _n[0])
