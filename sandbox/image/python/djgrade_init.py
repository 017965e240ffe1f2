"""djgrade_init: the entrypoint of every djgrade sandbox container.

It unpacks a workspace, optionally starts a private PostgreSQL, runs one
command under limits, and reports what happened as one line of JSON. Only the
Python standard library is used: this file must run before anything else in
the image can be trusted to work.

Protocol with the Go side (sandbox/protocol.go documents the same; keep both
in step):

  Container environment
    DJGRADE_REPORT_PATH   report file, relative to /work; may be empty
    DJGRADE_OUTPUT_BYTES  cap on each of the command's stdout and stderr
    DJGRADE_TIMEOUT_S     inner wall-clock limit of the command, in seconds;
                          the Go side enforces a slightly larger outer one
    DJGRADE_POSTGRES=1    start PostgreSQL first (optional)
    plus the job's own KEY=VALUE pairs, all passed on to the command.
  Arguments: the command to run (argv[1:]).
  stdin: first one line, the run's nonce (hex, at most 64 characters), then
    one line with a length N (decimal, at most PRIVATE_MAX), then N private
    bytes, then the workspace as an uncompressed tar stream. It is unpacked
    into /work (a tmpfs). Absolute paths, '..', links, devices and fifos are
    refused (skipped, listed on stderr): nothing is ever written outside
    /work. The report's folder (or, for a report path without a folder, the
    report and its .sig) is refused too: no report can exist before the
    command starts. stdin is then drained and closed.
  Private bytes: kept in this process's memory only (never on disk, never in
    the environment). When N > 0 the command inherits the read end of a pipe
    as descriptor 3 and DJGRADE_PRIVATE_FD=3; a thread writes the bytes and
    closes the write end, which the command never inherits. The bytes are
    zeroed once written.
  PostgreSQL: initdb in /tmp, listening only on a unix socket in /tmp, with
    fsync, synchronous_commit and full_page_writes off; the command gets
    DJGRADE_DB_ENGINE=postgres DJGRADE_DB_HOST=<socket dir>
    DJGRADE_DB_PORT=5432 DJGRADE_DB_NAME=djgrade DJGRADE_DB_USER=sandbox
    (and the matching PG* variables). It is stopped after the command.
  The command runs in /work in its own process group with its output
    captured through pipes; the first DJGRADE_OUTPUT_BYTES of each stream
    are kept. Over the cap: the group is killed, output_limit is set. At the
    inner timeout: the group is killed, timeout is set.
  stdout of the container: the envelope, one line of JSON, written last and
    preceded by a newline:
    {"version": 1, "nonce": "<the nonce>", "exit_code": N, "signal": S | null, "timeout": bool,
     "output_limit": bool, "process_limit": bool, "oom_kill": bool,
     "stdout": "<base64>", "stderr": "<base64>", "truncated": bool,
     "report": "<base64>" | null, "report_sig": "<base64>" | null,
     "error": "<text>" | null,
     "error_kind": "internal" | "too_large" | null,
     "timings_ms": {"extract": N, "postgres": N, "run": N}}
    exit_code is 128+S when the command died of signal S. process_limit is
    set when a fork failed with EAGAIN, or the command failed after the pids
    cgroup refused a fork. oom_kill is set when the memory cgroup's OOM
    killer fired during the command. report_sig is the file at the report
    path + ".sig", read like the report (capped, no links, regular files
    only). error is set (and the command was not
    run) when the init itself failed: a bad workspace, PostgreSQL not
    starting; that is djgrade's fault, never the candidate's. error_kind
    is too_large when the workspace did not fit in the scratch space.
  stderr of the container: the init's own diagnostics only.

The candidate's code runs with the same uid as this process and as the
engine's tini (pid 1), whose stdout is the container's stdout too. So:
this process makes itself non-dumpable (no ptrace, no /proc/<pid>/fd of it);
the nonce, read from stdin before the command exists, is in the envelope and
nowhere the command can read it, so a line the command writes to
/proc/1/fd/1 cannot pass for the envelope; and before writing the envelope
the init kills every other process of its uid, so nothing can interleave
with it. The Go side takes the last line of the stream.
"""

import base64
import ctypes
import errno
import glob
import json
import os
import selectors
import signal
import stat
import subprocess
import sys
import tarfile
import tempfile
import threading
import time

WORK = "/work"
REPORT_CAP = 8 << 20
ENVELOPE_VERSION = 1
DEFAULT_OUTPUT_BYTES = 1 << 20
DEFAULT_TIMEOUT_S = 120.0
# After the command exits (or is killed) its pipes may still be held open by
# a process that left the group; wait this long for EOF, then stop reading.
DRAIN_S = 1.0
NONCE_MAX = 64
# The private block: at most this many bytes (grader.MaxPrivateBytes), handed
# to the command on this descriptor, named in this variable.
PRIVATE_MAX = 4 << 20
PRIVATE_FD = 3
PRIVATE_FD_ENV = "DJGRADE_PRIVATE_FD"
SIG_SUFFIX = ".sig"
SIG_CAP = 1 << 10
PG_PORT = 5432
PG_DB = "djgrade"
PG_USER = "sandbox"


def log(msg):
    try:
        sys.stderr.write("djgrade-init: %s\n" % msg)
        sys.stderr.flush()
    except OSError:
        pass


def ms(seconds):
    return int(round(seconds * 1000))


class InitError(Exception):
    """A failure of the init itself, reported in the envelope's error."""

    def __init__(self, msg, kind="internal"):
        super().__init__(msg)
        self.kind = kind


def make_undumpable():
    """PR_SET_DUMPABLE=0 makes /proc/self/* root-owned and blocks ptrace by
    processes of the same uid, i.e. by the candidate's code."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(4, 0, 0, 0, 0) != 0:  # PR_SET_DUMPABLE
            log("prctl(PR_SET_DUMPABLE): errno %d" % ctypes.get_errno())
    except (OSError, AttributeError) as e:
        log("prctl unavailable: %s" % e)


def safe_rel(name):
    """Returns the clean relative form of a tar member name, "" for the
    root itself, or None if the name could point outside /work."""
    if not name or "\x00" in name or name.startswith("/") or "\\" in name:
        return None
    parts = []
    for seg in name.split("/"):
        if seg in ("", "."):
            continue
        if seg == "..":
            return None
        parts.append(seg)
    return "/".join(parts)


class CountingReader:
    """Wraps stdin to tell an empty stream (no workspace) from a bad one."""

    def __init__(self, raw):
        self.raw = raw
        self.n = 0

    def read(self, size=-1):
        data = self.raw.read(size)
        self.n += len(data)
        return data


def reserved_for(report_rel):
    """Returns a predicate telling whether a clean workspace path belongs to
    the report: its folder and everything below, or, when the report path
    has no folder, the report and its signature themselves."""
    clean = safe_rel(report_rel or "")
    if not clean:
        return lambda rel: False
    folder = os.path.dirname(clean)
    if folder:
        return lambda rel: rel == folder or rel.startswith(folder + "/")
    exact = {clean, clean + SIG_SUFFIX}
    return lambda rel: rel in exact


def extract(stream, dest=WORK, reserved=lambda rel: False):
    """Unpacks a tar stream into dest. Only regular files and folders are
    written; every other member is refused, and so is every path reserved
    says is the report's. No link is ever created, so no path below dest can
    lead outside it, and O_NOFOLLOW guards regardless."""
    reader = CountingReader(stream)
    refused = []
    files = 0
    try:
        tf = tarfile.open(fileobj=reader, mode="r|")
    except tarfile.ReadError as e:
        if reader.n == 0:
            return 0, refused
        raise InitError("workspace is not a tar stream: %s" % e)
    try:
        for m in tf:
            rel = safe_rel(m.name)
            if rel is None:
                refused.append(m.name)
                continue
            if rel == "":
                continue
            if reserved(rel):
                refused.append(m.name)
                continue
            path = os.path.join(dest, rel)
            try:
                if m.isdir():
                    os.makedirs(path, mode=0o755, exist_ok=True)
                elif m.isreg():
                    os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
                    mode = 0o755 if m.mode & 0o111 else 0o644
                    fd = os.open(
                        path,
                        os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC,
                        mode,
                    )
                    with os.fdopen(fd, "wb") as out:
                        os.fchmod(out.fileno(), mode)
                        src = tf.extractfile(m)
                        while True:
                            chunk = src.read(1 << 20)
                            if not chunk:
                                break
                            out.write(chunk)
                    files += 1
                else:
                    refused.append(m.name)
            except OSError as e:
                if e.errno in (errno.ENOSPC, errno.EDQUOT):
                    raise InitError("workspace does not fit in the scratch space", "too_large")
                log("refused %r: %s" % (m.name, e))
                refused.append(m.name)
    except tarfile.TarError as e:
        raise InitError("bad workspace tar: %s" % e)
    for name in refused:
        log("refused workspace member %r" % name)
    return files, refused


def read_private(stream):
    """Reads the private block: a length line, then exactly that many bytes,
    into a bytearray so that it can be zeroed once handed on."""
    line = stream.readline(24)
    if not line.endswith(b"\n") or not line[:-1].isdigit():
        raise InitError("bad private length line on stdin")
    n = int(line[:-1])
    if n > PRIVATE_MAX:
        raise InitError("private block of %d bytes is over %d" % (n, PRIVATE_MAX))
    buf = bytearray(n)
    view = memoryview(buf)
    got = 0
    while got < n:
        k = stream.readinto(view[got:])
        if not k:
            raise InitError("private block cut short (%d of %d bytes)" % (got, n))
        got += k
    view.release()
    return buf


def reserve_private_fd():
    """Holds descriptor 3 open on /dev/null (not inheritable) so that nothing
    else the init opens takes it; run_command moves the private pipe there
    only for the moment of the spawn."""
    fd = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
    if fd != PRIVATE_FD:
        os.dup2(fd, PRIVATE_FD, inheritable=False)
        os.close(fd)


def feed_private(fd, data):
    """Writes data into the pipe fd, then closes it and zeroes data. Run in
    a thread: a command that reads late (or never) must not block the init,
    and a closed read end ends the write with EPIPE."""
    try:
        view = memoryview(data)
        while view:
            n = os.write(fd, view[:1 << 16])
            view = view[n:]
        view.release()
    except OSError:
        pass
    finally:
        try:
            os.close(fd)
        except OSError:
            pass
        data[:] = bytes(len(data))


def drain_stdin():
    try:
        while os.read(0, 1 << 16):
            pass
    except OSError:
        pass
    try:
        os.close(0)
    except OSError:
        pass


def pg_bindir():
    dirs = glob.glob("/usr/lib/postgresql/*/bin")

    def version(d):
        try:
            return int(d.split("/")[-2])
        except ValueError:
            return 0

    dirs.sort(key=version)
    if not dirs:
        raise InitError("PostgreSQL is not installed in the image")
    return dirs[-1]


class Postgres:
    """A throwaway PostgreSQL cluster in /tmp, reachable only by socket."""

    def __init__(self):
        self.proc = None
        self.base = None
        self.sock = None
        self.logf = None

    def start(self, timeout=60.0):
        bindir = pg_bindir()
        self.base = tempfile.mkdtemp(prefix="djgrade-pg-", dir="/tmp")
        data = os.path.join(self.base, "data")
        self.sock = os.path.join(self.base, "run")
        os.mkdir(self.sock, 0o700)
        logpath = os.path.join(self.base, "postgres.log")
        r = subprocess.run(
            [os.path.join(bindir, "initdb"), "-D", data, "-U", PG_USER, "-A", "trust",
             "-E", "UTF8", "--no-locale", "-N", "--no-instructions"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            timeout=timeout,
        )
        if r.returncode != 0:
            raise InitError("initdb failed: %s" % r.stdout.decode("utf-8", "replace")[-2000:])
        self.logf = open(logpath, "ab")
        # Its own session, so that killing the command's group spares it.
        self.proc = subprocess.Popen(
            [os.path.join(bindir, "postgres"), "-D", data, "-p", str(PG_PORT),
             "-c", "listen_addresses=", "-c", "unix_socket_directories=" + self.sock,
             "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
             "-c", "shared_buffers=32MB", "-c", "max_connections=50"],
            stdin=subprocess.DEVNULL, stdout=self.logf, stderr=self.logf,
            start_new_session=True, close_fds=True,
        )
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise InitError("postgres exited at start: %s" % self.tail(logpath))
            r = subprocess.run(
                [os.path.join(bindir, "pg_isready"), "-q", "-h", self.sock, "-p", str(PG_PORT), "-U", PG_USER,
                 "-d", "postgres"],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
            if r.returncode == 0:
                break
            if time.monotonic() > deadline:
                raise InitError("postgres not ready after %.0fs: %s" % (timeout, self.tail(logpath)))
            time.sleep(0.05)
        r = subprocess.run(
            [os.path.join(bindir, "createdb"), "-h", self.sock, "-p", str(PG_PORT), "-U", PG_USER, PG_DB],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout,
        )
        if r.returncode != 0:
            raise InitError("createdb failed: %s" % r.stdout.decode("utf-8", "replace")[-2000:])

    @staticmethod
    def tail(path):
        try:
            with open(path, "rb") as f:
                return f.read()[-2000:].decode("utf-8", "replace")
        except OSError:
            return ""

    def env(self):
        return {
            "DJGRADE_DB_ENGINE": "postgres",
            "DJGRADE_DB_HOST": self.sock,
            "DJGRADE_DB_PORT": str(PG_PORT),
            "DJGRADE_DB_NAME": PG_DB,
            "DJGRADE_DB_USER": PG_USER,
            "PGHOST": self.sock,
            "PGPORT": str(PG_PORT),
            "PGDATABASE": PG_DB,
            "PGUSER": PG_USER,
        }

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            self.proc.send_signal(signal.SIGINT)  # fast shutdown
            self.proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            try:
                self.proc.kill()
                self.proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                pass


def read_counter(paths, key):
    """Returns the value of "key N" in the first readable cgroup file of
    paths, or None if none is readable."""
    for p in paths:
        try:
            with open(p) as f:
                for line in f:
                    parts = line.split()
                    if len(parts) == 2 and parts[0] == key:
                        return int(parts[1])
        except (OSError, ValueError):
            continue
    return None


PIDS_EVENTS = ["/sys/fs/cgroup/pids/pids.events", "/sys/fs/cgroup/pids.events"]
MEMORY_EVENTS = ["/sys/fs/cgroup/memory/memory.oom_control", "/sys/fs/cgroup/memory.events"]

PROCESS_LIMIT_HINTS = (
    b"Resource temporarily unavailable",
    b"can't start new thread",
    b"fork: retry",
    b"BlockingIOError",
)


def kill_group(proc):
    # The pid itself too: it may have left its group with setsid().
    for fn, arg in ((os.killpg, proc.pid), (os.kill, proc.pid)):
        try:
            fn(arg, signal.SIGKILL)
        except OSError:
            pass


def run_command(cmd, env, cap, timeout, private=None):
    res = {
        "exit_code": -1, "signal": None, "timeout": False, "output_limit": False,
        "process_limit": False, "oom_kill": False, "truncated": False,
        "stdout": b"", "stderr": b"",
    }
    pids_before = read_counter(PIDS_EVENTS, "max")
    oom_before = read_counter(MEMORY_EVENTS, "oom_kill")
    env = dict(env)
    env.pop(PRIVATE_FD_ENV, None)
    pass_fds = ()
    wfd = None
    if private:
        # os.pipe() makes both ends non-inheritable; only the copy of the
        # read end on descriptor 3 is passed, so the command never holds
        # the write end and sees EOF once everything is written.
        rfd, wfd = os.pipe()
        os.dup2(rfd, PRIVATE_FD, inheritable=True)
        os.close(rfd)
        pass_fds = (PRIVATE_FD,)
        env[PRIVATE_FD_ENV] = str(PRIVATE_FD)
    try:
        proc = subprocess.Popen(
            cmd, cwd=WORK, env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            start_new_session=True, close_fds=True, pass_fds=pass_fds,
        )
    except OSError as e:
        if wfd is not None:
            os.close(wfd)
            reserve_private_fd()
            private[:] = bytes(len(private))
        if e.errno == errno.EAGAIN:
            res["process_limit"] = True
            res["exit_code"] = 126
        elif e.errno == errno.ENOENT:
            res["exit_code"] = 127
        else:
            res["exit_code"] = 126
        res["stderr"] = ("djgrade: cannot run %s: %s\n" % (cmd[0], e)).encode()[:cap]
        return res
    if wfd is not None:
        # The init must not keep the read end: a command that never reads
        # would then leave the writer blocked instead of failing with EPIPE.
        reserve_private_fd()
        threading.Thread(target=feed_private, args=(wfd, private), daemon=True).start()

    bufs = {"stdout": bytearray(), "stderr": bytearray()}
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ, "stdout")
    sel.register(proc.stderr, selectors.EVENT_READ, "stderr")
    deadline = time.monotonic() + timeout
    stop_at = None  # once set, read until EOF or this moment
    while sel.get_map():
        now = time.monotonic()
        if stop_at is None:
            if now >= deadline:
                res["timeout"] = True
                kill_group(proc)
                stop_at = now + DRAIN_S
            elif proc.poll() is not None:
                kill_group(proc)  # stragglers left in the group
                stop_at = now + DRAIN_S
        if stop_at is not None and now >= stop_at:
            break
        wait = (stop_at if stop_at is not None else deadline) - now
        for key, _ in sel.select(timeout=max(0.0, min(wait, 0.2))):
            try:
                data = os.read(key.fd, 1 << 16)
            except OSError:
                data = b""
            if not data:
                sel.unregister(key.fileobj)
                continue
            buf = bufs[key.data]
            room = cap - len(buf)
            if len(data) > room:
                if room > 0:
                    buf += data[:room]
                res["truncated"] = True
                if not res["output_limit"]:
                    res["output_limit"] = True
                    kill_group(proc)
                    if stop_at is None:
                        stop_at = time.monotonic() + DRAIN_S
            else:
                buf += data
    sel.close()
    proc.stdout.close()
    proc.stderr.close()
    try:
        rc = proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        kill_group(proc)
        rc = proc.wait()
    if rc < 0:
        res["signal"] = -rc
        res["exit_code"] = 128 - rc
    else:
        res["exit_code"] = rc
    res["stdout"] = bytes(bufs["stdout"])
    res["stderr"] = bytes(bufs["stderr"])

    pids_after = read_counter(PIDS_EVENTS, "max")
    if rc != 0:
        if pids_before is not None and pids_after is not None:
            res["process_limit"] = pids_after > pids_before
        else:
            res["process_limit"] = any(h in res["stderr"] for h in PROCESS_LIMIT_HINTS)
    oom_after = read_counter(MEMORY_EVENTS, "oom_kill")
    if oom_before is not None and oom_after is not None:
        res["oom_kill"] = oom_after > oom_before
    return res


def read_report(rel, limit=REPORT_CAP):
    """Reads the report (or its signature) without following a link out of
    /work and without blocking on a fifo or a device the candidate may have
    put there; None when it is missing, odd or over limit bytes."""
    if not rel:
        return None
    clean = safe_rel(rel)
    if not clean:
        log("report path %r refused" % rel)
        return None
    path = os.path.join(WORK, clean)
    real = os.path.realpath(path)
    if not real.startswith(WORK + "/"):
        log("report path leads outside /work")
        return None
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            log("report is not a regular file")
            return None
        chunks = []
        n = 0
        while n <= limit:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
            n += len(chunk)
        if n > limit:
            log("%s is over %d bytes" % (rel, limit))
            return None
        return b"".join(chunks)
    finally:
        os.close(fd)


def kill_everyone_else():
    """kill(-1) reaches every process this uid may signal except pid 1 and
    the caller: whatever the candidate left running, in any group."""
    try:
        os.kill(-1, signal.SIGKILL)
    except OSError:
        pass


def b64(data):
    return base64.b64encode(data).decode("ascii")


def env_number(name, default, conv):
    raw = os.environ.get(name, "")
    if not raw:
        return default
    try:
        v = conv(raw)
    except ValueError:
        log("bad %s=%r, using %r" % (name, raw, default))
        return default
    return v if v > 0 else default


def main(argv):
    make_undumpable()
    reserve_private_fd()
    envelope = {
        "version": ENVELOPE_VERSION, "nonce": "", "exit_code": -1, "signal": None, "timeout": False,
        "output_limit": False, "process_limit": False, "oom_kill": False,
        "stdout": "", "stderr": "", "truncated": False, "report": None, "report_sig": None,
        "error": None, "error_kind": None,
        "timings_ms": {"extract": 0, "postgres": 0, "run": 0},
    }
    timings = envelope["timings_ms"]
    pg = None
    try:
        cap = env_number("DJGRADE_OUTPUT_BYTES", DEFAULT_OUTPUT_BYTES, int)
        timeout = env_number("DJGRADE_TIMEOUT_S", DEFAULT_TIMEOUT_S, float)
        cmd = argv[1:]
        if not cmd:
            raise InitError("no command given")

        t = time.monotonic()
        stdin = sys.stdin.buffer
        nonce = stdin.readline(NONCE_MAX + 1).strip()
        if len(nonce) > NONCE_MAX or not all(c in b"0123456789abcdef" for c in nonce):
            raise InitError("bad nonce line on stdin")
        envelope["nonce"] = nonce.decode("ascii")
        report_rel = os.environ.get("DJGRADE_REPORT_PATH", "")
        try:
            private = read_private(stdin)
            extract(stdin, reserved=reserved_for(report_rel))
        finally:
            drain_stdin()
            timings["extract"] = ms(time.monotonic() - t)

        env = dict(os.environ)
        if os.environ.get("DJGRADE_POSTGRES") == "1":
            t = time.monotonic()
            pg = Postgres()
            try:
                pg.start()
            finally:
                timings["postgres"] = ms(time.monotonic() - t)
            env.update(pg.env())

        t = time.monotonic()
        res = run_command(cmd, env, cap, timeout, private)
        timings["run"] = ms(time.monotonic() - t)
        for k in ("exit_code", "signal", "timeout", "output_limit", "process_limit", "oom_kill", "truncated"):
            envelope[k] = res[k]
        envelope["stdout"] = b64(res["stdout"])
        envelope["stderr"] = b64(res["stderr"])
        if pg is not None:
            pg.stop()
        kill_everyone_else()
        report = read_report(report_rel)
        if report is not None:
            envelope["report"] = b64(report)
            sig = read_report(report_rel + SIG_SUFFIX, SIG_CAP) if report_rel else None
            if sig is not None:
                envelope["report_sig"] = b64(sig)
    except InitError as e:
        log(str(e))
        envelope["error"] = str(e)
        envelope["error_kind"] = e.kind
    except Exception as e:  # the envelope must be written whatever happened
        log("internal error: %r" % (e,))
        envelope["error"] = "init failed: %r" % (e,)
        envelope["error_kind"] = "internal"
    finally:
        if pg is not None:
            pg.stop()
    kill_everyone_else()
    out = sys.stdout.buffer
    out.write(b"\n" + json.dumps(envelope, separators=(",", ":")).encode("ascii") + b"\n")
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
