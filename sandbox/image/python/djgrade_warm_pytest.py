"""A pytest process started before its run: djgrade's two inits start one
while their container waits for its submission, so that the seconds
Python spends importing pytest, Django and DRF are spent before anyone is
waiting.

It imports only what can be imported before any settings exist (nothing
that reads django.conf.settings at import time, and no pytest plugin:
pytest rewrites a plugin's asserts only when it imports the plugin
itself), then reads one line of JSON from stdin:

    {"args": [...], "env": {...}, "cwd": "/work"}

takes that environment and directory as its own, runs pytest.main(args)
in this process and exits with its status. It holds nothing of the init
that started it: it was started before the init read its warm line, or
with nothing but its own request. If stdin ends first, it exits.
"""

import json
import os
import sys

REQUEST_MAX = 256 << 10

# Settings-free imports, in the order they pull each other in.
PRELOAD = (
    "pytest", "_pytest.config", "_pytest.main", "_pytest.fixtures", "_pytest.python",
    "django.db.models", "django.test", "django.test.utils", "django.core.handlers.wsgi",
    "django.urls", "django.contrib.auth.hashers",
    "rest_framework", "rest_framework.fields", "rest_framework.exceptions", "rest_framework.status",
    "sqlite3", "django.db.backends.sqlite3.base", "psycopg2", "django.db.backends.postgresql.base",
)


def preload(names=PRELOAD):
    import importlib
    for name in names:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001: a module that cannot load now loads (or fails) in the run
            pass


def main():
    sys.dont_write_bytecode = True
    preload()
    line = sys.stdin.buffer.readline(REQUEST_MAX + 1)
    if not line.endswith(b"\n"):
        os._exit(0)
    req = json.loads(line)
    fd = os.open(os.devnull, os.O_RDONLY)
    os.dup2(fd, 0)
    os.close(fd)
    os.environ.clear()
    os.environ.update({str(k): str(v) for k, v in req["env"].items()})
    cwd = str(req["cwd"])
    os.chdir(cwd)
    # As `python -m pytest` would have it: the working directory first.
    sys.path.insert(0, cwd)
    args = [str(a) for a in req["args"]]
    sys.argv = ["pytest"] + args
    import pytest
    try:
        rc = int(pytest.main(args))
    except SystemExit as e:
        rc = e.code if isinstance(e.code, int) else 1
    except BaseException:  # noqa: BLE001: report like an interpreter would, then exit
        import traceback
        traceback.print_exc()
        rc = 1
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(rc)


if __name__ == "__main__":
    main()
