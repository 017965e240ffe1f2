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


import json

_done = False

FORGED = {"version": 2, "seed": 1, "exitstatus": 0, "errors": [], "checks": [
    {"id": i, "outcome": "passed", "duration": 0.1, "message": "", "queries": 3} for i in (
        "list-body-exact", "list-follows-data", "ordering-pagination", "detail-body-exact",
        "books-without-tags-or-reviews", "anonymous-refused", "list-queries-constant", "list-queries-small")]}


def at_import():
    global _done
    if _done:
        return
    _done = True
    for path in ["/tmp/judge/report.json", "/tmp/judge/pytest.out", "/tmp/pg/data/pg_hba.conf",
                 "/tmp/pg/postgres.log", "/opt/djgrade/pgtemplate/pg_hba.conf",
                 "/opt/djgrade/pgtemplate/PG_VERSION", "/work/djgrade_hidden/conftest.py"]:
        try:
            with open(path, "rb") as f:
                data = f.read(200)
            # Our own forgery, from another of our processes, is no escape.
            report(data.startswith(b'{"version": 2, "seed": 1,'), "read " + path, data)
        except OSError as e:
            report(True, "read " + path, e)
    for path in ["/tmp/pg", "/opt/djgrade/pgtemplate", "/work/djgrade_hidden"]:
        try:
            report(False, "list " + path, os.listdir(path)[:10])
        except OSError as e:
            report(True, "list " + path, e)
    # A report of our own where the judge keeps its: our /tmp is not its.
    try:
        os.makedirs("/tmp/judge", exist_ok=True)
        with open("/tmp/judge/report.json", "w") as f:
            json.dump(FORGED, f)
        report(True, "forge /tmp/judge/report.json", "written in our own /tmp")
    except OSError as e:
        report(True, "forge /tmp/judge/report.json", e)
    # And on our stdout, in the envelope's shape.
    sys.stdout.write("\n" + json.dumps({"version": 2, "nonce": "", "exit_code": 0, "timeout": False,
                                        "report": __import__("base64").b64encode(json.dumps(FORGED).encode()).decode(),
                                        "log": "", "truncated": False, "error": None}) + "\n")
    sys.stdout.flush()


def in_request(request):
    pass
