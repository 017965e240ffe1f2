"""The candidate container's init: the candidate's project, served.

Runs as uid 10001 in the candidate's container, which shares only its
loopback network with the judge's container. It unpacks the candidate's
workspace from stdin, runs the public tests (on SQLite, before anything
else: their results are final before the judge's first request), and then
answers the judge's requests on 127.0.0.1:8001:

  GET  /health                     {"ok": true}
  POST /manage {"args": [...]}     runs `python3 manage.py ARGS` against the
                                   judge's PostgreSQL as the app role;
                                   {"exit_code": N, "output": "..."}
  POST /serve  {"workers", "threads"}  starts gunicorn on 127.0.0.1:8000 and
                                   waits until it accepts connections
  POST /stop                       stops gunicorn

Everything here shares a uid with the candidate's code, which can kill this
process, answer in its place or write to its streams. That is by design:
nothing this container says is believed. The judge checks effects (HTTP
answers, the database), and the Go side caps this container's whole output.

Lines for the Go side, on stdout (sandbox/protocol.go):
  DJGRADE-PUBLIC <nonce> <base64 JSON of the public tests' results>
  DJGRADE-STATUS <nonce> {"oom_kills": N, "pid_limit_hits": N}   (at SIGTERM)
"""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import djgrade_common as common

PREFIX = "djgrade-agent"
AGENT_PORT = 8001
APP_PORT = 8000
PUBLIC_REPORT = "/tmp/djgrade-public.json"
GUNICORN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "djgrade_gunicorn.py")
PUBLIC_CAP = 1 << 20
MANAGE_OUTPUT_CAP = 64 << 10
REQUEST_CAP = 64 << 10


class Agent:
    def __init__(self, cfg):
        self.nonce = str(cfg.get("nonce", ""))
        self.settings = str(cfg.get("settings", ""))
        db = cfg.get("db") or {}
        self.db = {k: str(db.get(k, "")) for k in ("host", "port", "name", "user", "password")}
        # The judge's Redis (exercises with services: [redis]), as the app's user.
        self.redis_url = str(cfg.get("redis_url", "") or "")
        self.public = bool(cfg.get("public", True))
        self.public_only = bool(cfg.get("public_only", False))
        self.public_timeout = float(cfg.get("public_timeout_s", 60))
        self.server = None
        self.lock = threading.Lock()
        # The public tests' pytest, started while the container waited.
        self.warm = None
        self.children = set()
        self.pids_before = common.read_counter(common.PIDS_EVENTS, "max") or 0
        self.oom_before = common.read_counter(common.MEMORY_EVENTS, "oom_kill") or 0

    def base_env(self):
        return base_env()

    def app_env(self):
        env = self.base_env()
        env.update({
            "DJANGO_SETTINGS_MODULE": "djgrade_settings",
            "DJGRADE_ROLE": "app",
            "DJGRADE_BASE_SETTINGS": self.settings,
            "DJGRADE_DB_ENGINE": "postgres",
            "DJGRADE_DB_HOST": self.db["host"],
            "DJGRADE_DB_PORT": self.db["port"],
            "DJGRADE_DB_NAME": self.db["name"],
            "DJGRADE_DB_USER": self.db["user"],
            "DJGRADE_DB_PASSWORD": self.db["password"],
        })
        if self.redis_url:
            env["DJGRADE_REDIS_URL"] = self.redis_url
        return env

    def spawn(self, cmd, env, **kw):
        proc = subprocess.Popen(cmd, cwd=common.WORK, env=env, stdin=subprocess.DEVNULL,
                                start_new_session=True, close_fds=True, **kw)
        with self.lock:
            self.children.add(proc)
        return proc

    # The public tests: the candidate's own, on SQLite, output to the stream.
    def run_public(self):
        if not self.public:
            if self.warm:
                self.warm.discard()
            return
        args = ["-p", "djgrade_public", "-p", "no:cacheprovider",
                "-q", "-rfE", "--color=no", "--djgrade-public-report=" + PUBLIC_REPORT]
        proc = self.warm.run(args, self.base_env(), common.WORK) if self.warm else None
        if proc is not None:
            with self.lock:
                self.children.add(proc)
        else:
            proc = self.spawn([sys.executable, "-m", "pytest"] + args, self.base_env())
        try:
            proc.wait(timeout=self.public_timeout)
        except subprocess.TimeoutExpired:
            common.kill_group(proc.pid)
            proc.wait()
        data = b""
        try:
            with open(PUBLIC_REPORT, "rb") as f:
                data = f.read(PUBLIC_CAP + 1)
        except OSError:
            pass
        if len(data) > PUBLIC_CAP:
            data = b""
        line = "\nDJGRADE-PUBLIC %s %s\n" % (self.nonce, common.b64(data))
        os.write(1, line.encode("ascii"))

    def manage(self, args, timeout):
        proc = self.spawn([sys.executable, "manage.py"] + [str(a) for a in args], self.app_env(),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        out = bytearray()
        deadline = time.monotonic() + timeout

        def reader():
            while True:
                chunk = proc.stdout.read1(1 << 16) if hasattr(proc.stdout, "read1") else proc.stdout.read(1 << 16)
                if not chunk:
                    break
                # Staff read it in the candidate's log; the judge gets a copy.
                os.write(1, chunk)
                if len(out) < MANAGE_OUTPUT_CAP:
                    out.extend(chunk[:MANAGE_OUTPUT_CAP - len(out)])

        t = threading.Thread(target=reader, daemon=True)
        t.start()
        try:
            rc = proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            common.kill_group(proc.pid)
            rc = proc.wait()
            out.extend(b"\n[djgrade: stopped at the command's time limit]")
        t.join(timeout=2)
        return {"exit_code": rc, "output": out.decode("utf-8", "replace")}

    def serve(self, workers, threads, timeout=30.0):
        with self.lock:
            running = self.server is not None and self.server.poll() is None
        if not running:
            # gunicorn, with Django's own modules loaded before it forks
            # its workers (see djgrade_gunicorn.py).
            cmd = [sys.executable, GUNICORN, "--bind", "127.0.0.1:%d" % APP_PORT,
                   "--chdir", common.WORK, "--workers", str(workers), "--threads", str(threads),
                   "--worker-class", "gthread", "--timeout", "60", "--graceful-timeout", "2",
                   "--worker-tmp-dir", "/tmp", "--error-logfile", "-", "djgrade_wsgi:application"]
            self.server = self.spawn(cmd, self.app_env())
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.server.poll() is not None:
                return {"ok": False, "error": "gunicorn exited with %d" % self.server.returncode}
            try:
                socket.create_connection(("127.0.0.1", APP_PORT), timeout=0.5).close()
                return {"ok": True}
            except OSError:
                time.sleep(0.05)
        return {"ok": False, "error": "gunicorn did not accept connections within %.0fs" % timeout}

    def stop(self):
        srv = self.server
        if srv is not None and srv.poll() is None:
            try:
                os.killpg(srv.pid, signal.SIGTERM)
                srv.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                common.kill_group(srv.pid)
                srv.wait()
        self.server = None
        return {"ok": True}

    def status_line(self):
        pids = (common.read_counter(common.PIDS_EVENTS, "max") or 0) - self.pids_before
        oom = (common.read_counter(common.MEMORY_EVENTS, "oom_kill") or 0) - self.oom_before
        return "\nDJGRADE-STATUS %s %s\n" % (self.nonce, json.dumps({"oom_kills": oom, "pid_limit_hits": pids}))


def base_env():
    return {
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "HOME": "/tmp",
        "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
    }


def handler_for(agent):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def log_message(self, *args):
            pass

        def answer(self, code, obj):
            body = json.dumps(obj).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            if self.path == "/health":
                return self.answer(200, {"ok": True})
            self.answer(404, {"error": "no such route"})

        def do_POST(self):
            try:
                n = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                n = -1
            if n < 0 or n > REQUEST_CAP:
                return self.answer(413, {"error": "body too large"})
            try:
                req = json.loads(self.rfile.read(n) or b"{}")
            except ValueError:
                return self.answer(400, {"error": "body is not JSON"})
            if self.path == "/manage":
                args = req.get("args") or []
                return self.answer(200, agent.manage(args, float(req.get("timeout_s", 60))))
            if self.path == "/serve":
                return self.answer(200, agent.serve(int(req.get("workers", 2)), int(req.get("threads", 4))))
            if self.path == "/stop":
                return self.answer(200, agent.stop())
            self.answer(404, {"error": "no such route"})

    return Handler


def main():
    common.make_undumpable()
    # The public tests' interpreter starts importing now, before anything
    # is read from stdin: it holds nothing of the protocol.
    warm_pytest = common.WarmPytest(base_env())
    stdin = sys.stdin.buffer
    try:
        # The warm line when the container starts (a pre-started container
        # waits after it, its public tests' pytest importing), the job line
        # and the workspace when a submission comes.
        warm = common.read_config(stdin)
        cfg = common.read_job(stdin, float(warm.get("warm_lifetime_s", 0) or 0), lambda: None)
        cfg["nonce"] = warm.get("nonce", "")
        cfg["db"] = warm.get("db") or {}
        try:
            refused = common.extract(stdin)
        finally:
            common.drain_stdin()
    except common.InitError as e:
        common.log(PREFIX, str(e))
        return 2
    for name in refused:
        common.log(PREFIX, "refused workspace member %r" % name)
    agent = Agent(cfg)
    agent.warm = warm_pytest

    def on_term(signum, frame):
        with agent.lock:
            children = list(agent.children)
        for p in children:
            common.kill_group(p.pid)
        os.write(1, agent.status_line().encode())
        os._exit(0)

    signal.signal(signal.SIGTERM, on_term)
    # A container whose grader died (and so never stops it) ends by itself.
    lifetime = float(cfg.get("lifetime_s", 0) or 0)
    if lifetime > 0:
        threading.Timer(lifetime, lambda: on_term(signal.SIGTERM, None)).start()
    # The public tests run first and alone: their results are final before
    # the judge sends its first request, so nothing the judge asks can be
    # carried into them; whatever they left running is killed.
    agent.run_public()
    if agent.public_only:
        # The fast path: the public tests are all this container does. It
        # ends now (not at the lifetime timer's thread), and with it
        # whatever the tests left running.
        os.write(1, agent.status_line().encode())
        os._exit(0)
    try:
        os.kill(-1, signal.SIGKILL)  # every other process of this uid
    except OSError:
        pass
    httpd = ThreadingHTTPServer(("127.0.0.1", AGENT_PORT), handler_for(agent))
    httpd.daemon_threads = True
    httpd.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
