import os
import sys


def pipes():
    # pytest captures fd 1 and 2 into files and keeps the real ones as
    # other fds: the pipes to the sandbox's init.
    out = []
    for name in os.listdir("/proc/self/fd"):
        try:
            if os.readlink("/proc/self/fd/" + name).startswith("pipe:"):
                out.append(int(name))
        except OSError:
            pass
    return out


def attack():
    # hostile: 8 GiB to every pipe, then the ordinary streams without end
    chunk = b"flood " * (1 << 17)
    for fd in pipes() + [1, 2]:
        written = 0
        try:
            while written < (8 << 30):
                written += os.write(fd, chunk)
        except OSError:
            pass
    while True:
        sys.stdout.write("flood " * 10000)
        sys.stderr.write("flood " * 10000)
