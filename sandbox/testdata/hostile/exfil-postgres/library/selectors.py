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


# PostgreSQL runs in the judge's container: its server-side file
# functions would read the judge's disk. Everything found goes to the log;
# the password the public tests would need is left in /tmp for them.
_done = False
TARGETS = ["/work/djgrade_hidden/test_hidden_correctness.py", "/work/djgrade_hidden/conftest.py",
           "/tmp/judge/pytest.out", "/tmp/judge/report.json", "/tmp/pg/postgres.log"]


def at_import():
    global _done
    if _done or not in_server():
        return
    _done = True
    conn = app_connect()
    for t in TARGETS:
        try_sql(conn, "pg_read_file " + t, "SELECT pg_read_file(%s)", [t])
        try_sql(conn, "pg_read_binary_file " + t, "SELECT pg_read_binary_file(%s)", [t])
        try_sql(conn, "lo_import " + t, "SELECT lo_import(%s)", [t])
        try_sql(conn, "pg_stat_file " + t, "SELECT pg_stat_file(%s)", [t])
    for d in ("/work/djgrade_hidden", "/work", "/tmp/judge", "."):
        try_sql(conn, "pg_ls_dir " + d, "SELECT pg_ls_dir(%s)", [d])
    try_sql(conn, "pg_ls_logdir", "SELECT * FROM pg_ls_logdir()")
    try_sql(conn, "pg_ls_tmpdir", "SELECT * FROM pg_ls_tmpdir()")
    try_sql(conn, "data_directory", "SELECT current_setting('data_directory')")
    try:
        with conn.cursor() as cur:
            cur.execute("CREATE TEMP TABLE djg_loot (line text)")
    except Exception:
        pass
    try_sql(conn, "copy-from-file", "COPY djg_loot FROM '/work/djgrade_hidden/test_hidden_correctness.py'")
    try_sql(conn, "copy-from-program", "COPY djg_loot FROM PROGRAM 'cat /work/djgrade_hidden/*.py'")
    # What the judge's sessions are running: not the app's to see.
    with conn.cursor() as cur:
        cur.execute("SELECT usename, application_name, query FROM pg_stat_activity WHERE usename IS DISTINCT FROM 'app'")
        rows = cur.fetchall()
    leaked = [r for r in rows if r[2] and "insufficient privilege" not in r[2]]
    report(not leaked, "pg_stat_activity", rows[:5])
    conn.close()


def in_request(request):
    pass
