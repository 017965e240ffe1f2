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


ATTEMPTS = [
    ("sql-function", "CREATE FUNCTION djg_f() RETURNS int LANGUAGE sql AS 'SELECT 1'"),
    ("plpgsql-function", "CREATE FUNCTION djg_g() RETURNS int LANGUAGE plpgsql AS 'BEGIN RETURN 1; END'"),
    ("internal-function", "CREATE FUNCTION djg_h(text) RETURNS text LANGUAGE internal AS 'textin'"),
    ("c-function", "CREATE FUNCTION djg_c() RETURNS int LANGUAGE c AS '/usr/lib/x86_64-linux-gnu/libc.so.6', 'getpid'"),
    ("sql-procedure", "CREATE PROCEDURE djg_p() LANGUAGE sql AS 'SELECT 1'"),
    ("do-block", "DO $$ BEGIN PERFORM 1; END $$"),
    ("do-sql", "DO LANGUAGE sql 'SELECT 1'"),
    ("create-language", "CREATE LANGUAGE plpython3u"),
    ("create-ext-plpython", "CREATE EXTENSION plpython3u"),
    ("create-ext-dblink", "CREATE EXTENSION dblink"),
    ("create-ext-fdw", "CREATE EXTENSION postgres_fdw"),
    ("load-module", "LOAD 'auto_explain'"),
    ("sql-std-body", "CREATE FUNCTION djg_s() RETURNS int LANGUAGE sql RETURN 1"),
    ("program-copy", "COPY (SELECT 1) TO PROGRAM 'true'"),
]


def at_import():
    if not in_server() or "migrate" not in sys.argv:
        return
    conn = app_connect()
    for name, sql in ATTEMPTS:
        try:
            with conn.cursor() as cur:
                cur.execute(sql)
            report(False, name, "accepted: " + sql)
        except Exception as e:
            report(True, name, e)
    conn.close()


def in_request(request):
    pass
