import atexit
import glob
import json
import os

REGISTERED = []


def rewrite():
    # hostile: runs after pytest_sessionfinish, in the same process
    for path in glob.glob(os.path.join(os.getcwd(), ".djgrade", "*")):
        try:
            with open(path) as f:
                doc = json.load(f)
            for t in doc.get("tests", []):
                t["outcome"], t["message"] = "passed", ""
            with open(path, "w") as f:
                json.dump(doc, f)
        except (OSError, ValueError, AttributeError, TypeError):
            pass


def attack():
    if not REGISTERED:
        atexit.register(rewrite)
        REGISTERED.append(True)
    raise RuntimeError("every check fails; the report will say otherwise")
