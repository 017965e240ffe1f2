import os
import time


def attack():
    # hostile: fork until the kernel refuses; every child keeps trying to
    # fork forever (slowly enough that the run ends before its time limit:
    # a bomb that also starves the CPU ends as a timeout, see the README)
    children = 0
    while True:
        try:
            pid = os.fork()
        except OSError as e:
            raise RuntimeError("fork refused after %d children: %s" % (children, e))
        if pid == 0:
            try:
                while True:
                    try:
                        os.fork()
                    except OSError:
                        time.sleep(0.5)
            finally:
                os._exit(0)
        children += 1
