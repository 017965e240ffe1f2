"""The judge container's init: PostgreSQL and the hidden checks.

Runs as uid 10002 in a container of its own (its own pid namespace, no
network but the loopback it shares with the candidate's container). It

  1. reads its warm line (nonce, the app role's password) from stdin;
  2. copies the image's PostgreSQL template into /tmp, starts it on the
     judge's unix socket and on 127.0.0.1:5432, sets the app role's
     password for this run, and starts the checks' pytest, which imports
     pytest, Django and DRF and waits for its arguments
     (djgrade_warm_pytest.py); a pair pre-started by the sandbox's pool
     waits here for a submission;
  2a. reads the job line (seed, settings, time limit, services) and the
     judge's workspace (the exercise's untouched starter and the hidden
     checks, never a candidate file) from stdin;
  2b. starts Redis on 127.0.0.1:6379 when the exercise asks for it
     (services: [redis]): a broker the app publishes to as the user "app"
     (data commands only) and the judge observes as the user "judge";
  3. runs pytest over djgrade_hidden/ with the djgrade_judge plugin, which
     drives the candidate's container over HTTP (see djgrade_agent.py);
  4. writes one line of JSON, the envelope, as the last line of its stdout.

No candidate process can write to this container's streams, read its files
or signal its processes; the envelope is what the Go side believes. See
sandbox/protocol.go.
"""

import json
import os
import secrets
import shutil
import subprocess
import sys
import time

import djgrade_common as common

PREFIX = "djgrade-judge"
ENVELOPE_VERSION = 2
TEMPLATE = "/opt/djgrade/pgtemplate"
PG_BASE = "/tmp/pg"
PG_PORT = 5432
REPORT = "/tmp/judge/report.json"
REPORT_CAP = 8 << 20
DRAIN_S = 2.0


def log(msg):
    common.log(PREFIX, msg)


def pg_bindir():
    dirs = sorted(
        (d for d in os.listdir("/usr/lib/postgresql") if d.isdigit()), key=int
    )
    if not dirs:
        raise common.InitError("PostgreSQL is not installed in the image")
    return "/usr/lib/postgresql/%s/bin" % dirs[-1]


class Postgres:
    """The run's PostgreSQL, started from the image's template."""

    def __init__(self):
        self.proc = None
        self.sock = os.path.join(PG_BASE, "run")
        self.data = os.path.join(PG_BASE, "data")
        self.logpath = os.path.join(PG_BASE, "postgres.log")

    def start(self, app_password, timeout=30.0):
        bindir = pg_bindir()
        os.makedirs(PG_BASE, mode=0o700, exist_ok=True)
        os.mkdir(self.sock, 0o700)
        shutil.copytree(TEMPLATE, self.data, symlinks=True)
        os.chmod(self.data, 0o700)
        logf = open(self.logpath, "ab")
        settings = {
            "listen_addresses": "127.0.0.1",
            "port": str(PG_PORT),
            "unix_socket_directories": self.sock,
            "unix_socket_permissions": "0700",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "shared_buffers": "32MB",
            "max_connections": "60",
            "superuser_reserved_connections": "5",
            "shared_preload_libraries": "pg_stat_statements",
            # Every top-level statement of every role, utility ones too
            # (COPY, DECLARE, FETCH); the judge leaves transaction control
            # out when it counts. The app cannot change these: they are
            # superuser settings, and the app has no function of its own
            # whose inner statements would hide behind one call.
            "pg_stat_statements.max": "10000",
            "pg_stat_statements.track": "top",
            "pg_stat_statements.track_utility": "on",
            "pg_stat_statements.save": "off",
            "password_encryption": "scram-sha-256",
            # When each transaction committed, by the server's own clock
            # (pg_xact_commit_timestamp(xmin)): what the app cannot move.
            "track_commit_timestamp": "on",
            "log_min_messages": "warning",
            # pg_stat_statements counts only statements that finish: a
            # statement that fails (and carries data out in its error
            # text) is counted from the log instead, where the server
            # writes every ERROR, with its role, before the client hears
            # of it. The statement's own text is left out of the log.
            "log_line_prefix": "djgrade %u: ",
            "log_min_error_statement": "panic",
            "logging_collector": "off",
        }
        args = [os.path.join(bindir, "postgres"), "-D", self.data]
        for k, v in settings.items():
            args += ["-c", "%s=%s" % (k, v)]
        self.proc = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=logf, stderr=logf,
            start_new_session=True, close_fds=True,
        )
        import psycopg2  # after the fork: the server does not need it

        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise common.InitError("postgres exited at start: %s" % self.tail())
            try:
                conn = psycopg2.connect(host=self.sock, port=PG_PORT, user="judge", dbname="djgrade")
                break
            except psycopg2.OperationalError:
                if time.monotonic() > deadline:
                    raise common.InitError("postgres not ready after %.0fs: %s" % (timeout, self.tail()))
                time.sleep(0.02)
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute("ALTER ROLE app PASSWORD %s", (app_password,))
        finally:
            conn.close()

    def tail(self):
        try:
            with open(self.logpath, "rb") as f:
                return f.read()[-2000:].decode("utf-8", "replace")
        except OSError:
            return ""

    def env(self):
        return {
            "DJGRADE_DB_HOST": self.sock,
            "DJGRADE_DB_PORT": str(PG_PORT),
            "DJGRADE_DB_NAME": "djgrade",
            "DJGRADE_DB_USER": "judge",
            "DJGRADE_DB_PASSWORD": "",
            "DJGRADE_PG_LOG": self.logpath,
        }

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            self.proc.send_signal(2)  # fast shutdown
            self.proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            common.kill_group(self.proc.pid)


class Redis:
    """The run's Redis, for exercises with a broker (services: [redis]).

    It listens on the loopback the candidate's container shares. Nothing is
    persisted and memory is bounded. The default user is off; "app" (the
    run's app password) may run data commands but nothing in @admin or
    @dangerous (CONFIG, MONITOR, FLUSHALL, KEYS, DEBUG, SHUTDOWN, ...), so
    the candidate can neither reconfigure it, write files through it nor
    see or wipe what others sent; "judge" (a password only this container
    knows) may do anything.
    """

    PORT = 6379
    BASE = "/tmp/redis"

    def __init__(self):
        self.proc = None
        self.judge_password = secrets.token_hex(24)
        self.logpath = os.path.join(self.BASE, "redis.log")

    def start(self, app_password, timeout=15.0):
        import redis

        os.makedirs(self.BASE, mode=0o700, exist_ok=True)
        conf = os.path.join(self.BASE, "redis.conf")
        lines = [
            "bind 127.0.0.1", "port %d" % self.PORT, "protected-mode yes", "daemonize no",
            "dir %s" % self.BASE, "logfile %s" % self.logpath, 'save ""', "appendonly no",
            "maxmemory 64mb", "maxmemory-policy noeviction", "maxclients 256",
            "enable-protected-configs no", "enable-debug-command no", "enable-module-command no",
            "user default off",
            "user app on >%s ~* &* +@all -@admin -@dangerous" % app_password,
            "user judge on >%s ~* &* +@all" % self.judge_password,
        ]
        fd = os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.proc = subprocess.Popen(
            ["/usr/bin/redis-server", conf], stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, close_fds=True,
        )
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise common.InitError("redis exited at start: %s" % self.tail())
            try:
                redis.Redis.from_url(self.url(), socket_timeout=1).ping()
                return
            except redis.RedisError:
                if time.monotonic() > deadline:
                    raise common.InitError("redis not ready after %.0fs: %s" % (timeout, self.tail()))
                time.sleep(0.05)

    def url(self):
        return "redis://judge:%s@127.0.0.1:%d/0" % (self.judge_password, self.PORT)

    def tail(self):
        try:
            with open(self.logpath, "rb") as f:
                return f.read()[-2000:].decode("utf-8", "replace")
        except OSError:
            return ""

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            common.kill_group(self.proc.pid)


PYTEST_OUT = "/tmp/judge/pytest.out"


def start_warm_pytest():
    """Starts the hidden checks' pytest while the pair waits: it imports
    pytest, Django and DRF before the submission comes (see
    djgrade_warm_pytest.py), with its output to PYTEST_OUT."""
    os.makedirs(os.path.dirname(PYTEST_OUT), exist_ok=True)
    out = open(PYTEST_OUT, "w+b")
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": "/tmp",
           "PYTHONPATH": os.environ.get("PYTHONPATH", ""), "PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1"}
    return common.WarmPytest(env, stdout=out, stderr=subprocess.STDOUT), out


def run_pytest(warm, out, env, cap, timeout):
    """Runs the hidden checks in the warm pytest (or, if it is gone, a new
    one); returns (exit code, timed out, output, truncated)."""
    os.makedirs(os.path.dirname(REPORT), exist_ok=True)
    args = [
        "-p", "djgrade_judge", "-p", "no:cacheprovider",
        "-q", "-rfE", "--color=no", "--ds=djgrade_settings", "--djgrade-report=" + REPORT,
        "djgrade_hidden",
    ]
    proc = warm.run(args, env, common.WORK)
    if proc is None:
        out.seek(0)
        out.truncate()
        proc = subprocess.Popen(
            [sys.executable, "-m", "pytest"] + args, cwd=common.WORK, env=env, stdin=subprocess.DEVNULL,
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True, close_fds=True,
        )
    timed_out = False
    try:
        rc = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        common.kill_group(proc.pid)
        rc = proc.wait()
    out.seek(0)
    data = out.read(cap + 1)
    out.close()
    truncated = len(data) > cap
    return rc, timed_out, data[:cap], truncated


def read_report():
    try:
        with open(REPORT, "rb") as f:
            data = f.read(REPORT_CAP + 1)
    except OSError:
        return None
    return data if len(data) <= REPORT_CAP else None


def main():
    common.make_undumpable()
    env_out = {
        "version": ENVELOPE_VERSION, "nonce": "", "exit_code": -1, "timeout": False,
        "report": None, "log": "", "truncated": False, "error": None, "error_kind": None,
        "timings_ms": {"extract": 0, "postgres": 0, "checks": 0},
    }
    timings = env_out["timings_ms"]
    pg = Postgres()
    rd = None
    try:
        t = time.monotonic()
        stdin = sys.stdin.buffer
        # The warm line comes when the container starts (ahead of any
        # submission when the pair is pre-started): PostgreSQL starts and
        # the checks' libraries are imported while the pair waits.
        warm = common.read_config(stdin)
        env_out["nonce"] = str(warm.get("nonce", ""))
        password = str(warm.get("app_password", ""))
        if len(password) < 16:
            raise common.InitError("config has no app password")
        pg.start(password)
        warm_pytest, pytest_out = start_warm_pytest()
        timings["postgres"] = int((time.monotonic() - t) * 1000)
        # The job line and the workspace come with the submission.
        cfg = common.read_job(stdin, float(warm.get("warm_lifetime_s", 0) or 0), pg.stop)
        services = cfg.get("services") or []
        if "redis" in services:
            rd = Redis()
            rd.start(password)
        t = time.monotonic()
        try:
            common.extract(stdin)
        finally:
            common.drain_stdin()
            timings["extract"] = int((time.monotonic() - t) * 1000)

        env = {
            "PATH": "/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "HOME": "/tmp",
            "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONUNBUFFERED": "1",
            "DJGRADE_ROLE": "judge",
            "DJGRADE_BASE_SETTINGS": str(cfg.get("settings", "")),
            "DJGRADE_SEED": str(int(cfg.get("seed", 0))),
            "DJGRADE_APP_PORT": str(int(cfg.get("app_port", 8000))),
            "DJGRADE_AGENT_PORT": str(int(cfg.get("agent_port", 8001))),
            "DJGRADE_DEADLINE": str(time.time() + float(cfg.get("timeout_s", 120))),
        }
        env.update(pg.env())
        if rd is not None:
            env["DJGRADE_REDIS_URL"] = rd.url()
        t = time.monotonic()
        rc, timed_out, output, truncated = run_pytest(
            warm_pytest, pytest_out, env, int(cfg.get("output_bytes", 1 << 20)), float(cfg.get("timeout_s", 120))
        )
        timings["checks"] = int((time.monotonic() - t) * 1000)
        env_out.update(exit_code=rc, timeout=timed_out, truncated=truncated, log=common.b64(output))
        if not timed_out:
            report = read_report()
            if report is not None:
                env_out["report"] = common.b64(report)
    except common.InitError as e:
        log(str(e))
        env_out["error"] = str(e)
        env_out["error_kind"] = e.kind
        if pg.proc is not None:
            env_out["log"] = common.b64(pg.tail().encode())
    except Exception as e:  # the envelope must be written whatever happened
        log("internal error: %r" % (e,))
        env_out["error"] = "judge init failed: %r" % (e,)
        env_out["error_kind"] = "internal"
    finally:
        if rd is not None:
            rd.stop()
        pg.stop()
    out = sys.stdout.buffer
    out.write(b"\n" + json.dumps(env_out, separators=(",", ":")).encode("ascii") + b"\n")
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
