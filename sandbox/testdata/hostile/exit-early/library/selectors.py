import os


def attack():
    # hostile: leave now, with a success code, before anything is reported
    os._exit(0)
