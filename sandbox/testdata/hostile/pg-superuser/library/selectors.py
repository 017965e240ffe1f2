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


_done = False


def at_import():
    global _done
    if _done or not in_server():
        return
    _done = True
    password = os.environ.get("DJGRADE_DB_PASSWORD")
    for user in ("judge", "postgres"):
        for dbname in ("djgrade", "postgres", "template1"):
            for pw in (None, "", password, user):
                try:
                    conn = app_connect(user=user, dbname=dbname, password=pw)
                    report(False, "tcp-%s-%s" % (user, dbname), "connected with password %r" % (pw,))
                    conn.close()
                except Exception as e:
                    report(True, "tcp-%s-%s" % (user, dbname), e)
    for host in ("localhost", "::1", "/tmp/pg/run", "/tmp", "/var/run/postgresql"):
        try:
            conn = app_connect(host=host, user="judge", dbname="djgrade", password=None)
            report(False, "host-" + host, "connected as judge")
            conn.close()
        except Exception as e:
            report(True, "host-" + host, e)
    try:
        conn = app_connect(dbname="postgres")
        report(False, "app-postgres-db", "connected")
        conn.close()
    except Exception as e:
        report(True, "app-postgres-db", e)
    conn = app_connect()
    try_sql(conn, "set-role", "SET ROLE judge")
    try_sql(conn, "set-session-auth", "SET SESSION AUTHORIZATION judge")
    try_sql(conn, "create-role", "CREATE ROLE evil SUPERUSER LOGIN PASSWORD 'x'")
    try_sql(conn, "alter-self", "ALTER ROLE app SUPERUSER")
    try_sql(conn, "grant-self", "GRANT judge TO app")
    with conn.cursor() as cur:
        cur.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        report(not cur.fetchone()[0], "superuser-flag", "still a plain role")
    conn.close()


def in_request(request):
    pass
