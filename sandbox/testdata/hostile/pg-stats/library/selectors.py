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


# The starter's N+1 runs; around every list the app tries to blind,
# reset or pollute the judge's statement counter, on its own Django
# connection (so a session setting would apply to the N+1 itself) and on a
# side connection.
ATTEMPTS = [
    ("reset", "SELECT djgrade_stats.pg_stat_statements_reset()"),
    ("reset-public", "SELECT pg_stat_statements_reset()"),
    ("read-stats", "SELECT count(*) FROM djgrade_stats.pg_stat_statements"),
    ("read-stats-fn", "SELECT count(*) FROM djgrade_stats.pg_stat_statements(true)"),
    ("read-info", "SELECT dealloc FROM djgrade_stats.pg_stat_statements_info"),
    ("set-track", "SET pg_stat_statements.track = 'none'"),
    ("set-track-utility", "SET pg_stat_statements.track_utility = off"),
    ("set-query-id", "SET compute_query_id = off"),
    ("alter-role-track", "ALTER ROLE app SET pg_stat_statements.track = 'none'"),
    ("alter-db-track", "ALTER DATABASE djgrade SET pg_stat_statements.track = 'none'"),
    ("alter-system", "ALTER SYSTEM SET pg_stat_statements.track = 'none'"),
    ("reload", "SELECT pg_reload_conf()"),
    ("drop-ext", "DROP EXTENSION pg_stat_statements"),
    ("schema-usage", "CREATE TABLE djgrade_stats.x (i int)"),
    ("stats-reset", "SELECT pg_stat_reset()"),
]
_done = set()


def _attack(conn, where):
    for name, sql in ATTEMPTS:
        key = (where, name)
        first = key not in _done
        _done.add(key)
        try:
            with conn.cursor() as cur:
                cur.execute(sql)
            report(False, "%s-%s" % (where, name), sql)
        except Exception as e:
            if first:
                report(True, "%s-%s" % (where, name), e)


def at_import():
    if not in_server() or "migrate" not in sys.argv:
        return
    conn = app_connect()
    _attack(conn, "import")
    conn.close()


_side = None


def in_request(request):
    global _side
    if not in_server():
        return
    from django.db import connection

    connection.ensure_connection()
    _attack(connection.connection, "django")
    if _side is None:
        _side = app_connect()
    _attack(_side, "side")
