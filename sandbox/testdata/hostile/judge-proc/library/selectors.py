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


import signal

_done = False


def at_import():
    global _done
    if _done or not in_server():
        return
    _done = True
    cmdlines = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                cmdlines[int(pid)] = f.read().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError as e:
            cmdlines[int(pid)] = "<%s>" % e.strerror
    judge = [c for c in cmdlines.values() if "postgres" in c or ("djgrade_" + "judge") in c]
    report(not judge, "proc-list", "%d processes, judge-like: %r" % (len(cmdlines), judge[:3]))
    # Pids our /proc does not show, found by signal 0: a process of another
    # namespace would answer.
    others = []
    for pid in range(2, 40000):
        # Our own processes and their threads (whose ids /proc does not
        # list, but serves) are not foreign.
        if pid in cmdlines or os.path.exists("/proc/%d" % pid):
            continue
        try:
            os.kill(pid, 0)
            others.append(pid)
        except ProcessLookupError:
            pass
        except PermissionError:
            others.append(pid)
    report(not others, "kill-0-scan", others[:10])
    # /proc/1 is docker-init; its root and its parent's are ours.
    try:
        found = os.listdir("/proc/1/root/tmp")
        report("pg" not in found and "judge" not in found, "proc1-root", found[:10])
    except OSError as e:
        report(True, "proc1-root", e)
    # The judge's PostgreSQL socket is in its own /tmp.
    try:
        with open("/proc/net/unix") as f:
            socks = [l.split()[-1] for l in f if "PGSQL" in l]
        report(True, "net-unix", "visible socket paths (names only): %r" % socks[:3])
    except OSError as e:
        report(True, "net-unix", e)
    for path in ["/tmp/pg/run/.s.PGSQL.5432"]:
        import socket
        s = socket.socket(socket.AF_UNIX)
        try:
            s.connect(path)
            report(False, "judge-socket", path)
        except OSError as e:
            report(True, "judge-socket", e)
        finally:
            s.close()


def in_request(request):
    pass
