import errno
import os


def fill(folder):
    chunk = b"d" * (1 << 20)
    total = 0
    i = 0
    while True:
        path = os.path.join(folder, "djgrade-fill-%d-%d" % (os.getpid(), i))
        i += 1
        try:
            with open(path, "ab") as f:
                for _ in range(64):
                    f.write(chunk)
                    f.flush()
                    total += len(chunk)
        except OSError as e:
            if e.errno in (errno.ENOSPC, errno.EDQUOT):
                return "PROBED:disk %s full after %d MiB more" % (folder, total >> 20)
            return "PROBED:disk %s stopped by %s after %d MiB" % (folder, e, total >> 20)


def say(text):
    # Straight to the pipes pytest saved (the sandbox's own stdout and
    # stderr): a full disk stops pytest from printing its summary.
    data = (text + "\n").encode()
    for name in os.listdir("/proc/self/fd"):
        try:
            if os.readlink("/proc/self/fd/" + name).startswith("pipe:"):
                os.write(int(name), data)
        except OSError:
            pass


def attack():
    # hostile: never delete what was written
    say("\n".join([fill("/work"), fill("/tmp")]))
    raise RuntimeError("the disk is full")
