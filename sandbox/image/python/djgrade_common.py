"""Pieces shared by djgrade's two in-container entry points.

djgrade_judge_init.py (the judge container) and djgrade_agent.py (the
candidate container) both read two config lines and a workspace tar from
stdin (the warm line when the container starts, the job line and the tar
when a submission comes: see read_job), both bound what they keep of a child's output, and both ask the
container's cgroups how processes ended. See sandbox/protocol.go for the
protocol they speak with the Go side.
"""

import base64
import ctypes
import errno
import json
import os
import signal
import sys
import tarfile
import threading

WORK = "/work"
CONFIG_MAX = 64 << 10


class InitError(Exception):
    """A failure of the init itself, reported in its envelope's error."""

    def __init__(self, msg, kind="internal"):
        super().__init__(msg)
        self.kind = kind


def log(prefix, msg):
    try:
        sys.stderr.write("%s: %s\n" % (prefix, msg))
        sys.stderr.flush()
    except OSError:
        pass


def make_undumpable():
    """PR_SET_DUMPABLE=0 makes /proc/self/* root-owned and blocks ptrace by
    other processes of the same uid."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE
    except (OSError, AttributeError):
        pass


def read_config(stream):
    """Reads one line of stdin: one JSON object."""
    line = stream.readline(CONFIG_MAX + 1)
    if not line.endswith(b"\n") or len(line) > CONFIG_MAX:
        raise InitError("bad config line on stdin")
    try:
        cfg = json.loads(line)
    except ValueError as e:
        raise InitError("config is not JSON: %s" % e)
    if not isinstance(cfg, dict):
        raise InitError("config is not an object")
    return cfg


def read_job(stream, warm_lifetime, on_expiry):
    """Reads the job line, the second line of stdin, which a pre-started
    container waits for: the first (the warm line) came when the container
    was started, the job line comes with the submission. If it has not come
    within warm_lifetime seconds (a server that died with this container
    waiting in its pool), on_expiry is called and the process exits."""
    timer = None
    if warm_lifetime > 0:
        def expire():
            try:
                on_expiry()
            finally:
                os._exit(3)
        timer = threading.Timer(warm_lifetime, expire)
        timer.daemon = True
        timer.start()
    try:
        return read_config(stream)
    finally:
        if timer is not None:
            timer.cancel()


def safe_rel(name):
    """Returns the clean relative form of a tar member name, "" for the
    root itself, or None if the name could point outside the destination."""
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


def extract(stream, dest=WORK):
    """Unpacks a tar stream into dest: regular files and folders only, no
    link ever created, O_NOFOLLOW regardless. Returns the refused names."""
    refused = []
    try:
        tf = tarfile.open(fileobj=stream, mode="r|")
    except tarfile.ReadError as e:
        raise InitError("workspace is not a tar stream: %s" % e)
    try:
        for m in tf:
            rel = safe_rel(m.name)
            if rel is None:
                refused.append(m.name)
                continue
            if rel == "":
                continue
            path = os.path.join(dest, rel)
            try:
                if m.isdir():
                    os.makedirs(path, mode=0o755, exist_ok=True)
                elif m.isreg():
                    os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
                    mode = 0o755 if m.mode & 0o111 else 0o644
                    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC, mode)
                    with os.fdopen(fd, "wb") as out:
                        os.fchmod(out.fileno(), mode)
                        src = tf.extractfile(m)
                        while True:
                            chunk = src.read(1 << 20)
                            if not chunk:
                                break
                            out.write(chunk)
                else:
                    refused.append(m.name)
            except OSError as e:
                if e.errno in (errno.ENOSPC, errno.EDQUOT):
                    raise InitError("workspace does not fit in the scratch space", "too_large")
                refused.append(m.name)
    except tarfile.TarError as e:
        raise InitError("bad workspace tar: %s" % e)
    return refused


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


PIDS_EVENTS = ["/sys/fs/cgroup/pids/pids.events", "/sys/fs/cgroup/pids.events"]
MEMORY_EVENTS = ["/sys/fs/cgroup/memory/memory.oom_control", "/sys/fs/cgroup/memory.events"]


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


def kill_group(pid):
    for fn, arg in ((os.killpg, pid), (os.kill, pid)):
        try:
            fn(arg, signal.SIGKILL)
        except OSError:
            pass


def b64(data):
    return base64.b64encode(data).decode("ascii")


WARM_PYTEST = os.path.join(os.path.dirname(os.path.abspath(__file__)), "djgrade_warm_pytest.py")


class WarmPytest:
    """A pytest process started ahead of its run (djgrade_warm_pytest.py):
    started while the container waits, given its arguments, environment and
    directory by run(). Its output goes where stdout and stderr say, as a
    subprocess's would."""

    def __init__(self, env, stdout=None, stderr=None):
        import subprocess
        self.proc = None
        try:
            self.proc = subprocess.Popen(
                [sys.executable, WARM_PYTEST], stdin=subprocess.PIPE, stdout=stdout, stderr=stderr,
                cwd="/", env=env, start_new_session=True, close_fds=True,
            )
        except OSError:
            self.proc = None

    def run(self, args, env, cwd):
        """Starts the run; returns the process (a subprocess.Popen), or None
        when the warm process is gone and the caller must start one."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return None
        req = json.dumps({"args": list(args), "env": dict(env), "cwd": cwd}).encode() + b"\n"
        try:
            proc.stdin.write(req)
            proc.stdin.close()
        except OSError:
            kill_group(proc.pid)
            proc.wait()
            return None
        return proc

    def discard(self):
        if self.proc is not None:
            kill_group(self.proc.pid)
            self.proc.wait()
            self.proc = None
