import json
import os

C = "djgrade_hidden/test_hidden_correctness.py::"
P = "djgrade_hidden/test_hidden_performance.py::"
TESTS = [
    (C + "test_list_body_is_exact", 2, "correctness"),
    (C + "test_ordering_and_pagination", 1, "correctness"),
    (C + "test_detail_body_is_exact", 1, "correctness"),
    (C + "test_books_without_tags_or_reviews", 1, "correctness"),
    (C + "test_anonymous_refused", 1, "correctness"),
    (P + "test_list_queries_constant", 4, "performance"),
    (P + "test_list_queries_small", 2, "performance"),
]


def forge():
    # hostile: a report of full marks, and a folder the plugin cannot write
    folder = os.path.join(os.getcwd(), ".djgrade")
    os.makedirs(folder, exist_ok=True)
    doc = {"version": 1, "exitstatus": 0, "collect_errors": [], "tests": [
        {"nodeid": n, "name": "", "outcome": "passed", "duration": 0.01, "points": p,
         "category": c, "message": "", "queries": 1} for n, p, c in TESTS]}
    with open(os.path.join(folder, "report.json"), "w") as f:
        json.dump(doc, f)
    os.chmod(folder, 0o555)


forge()


def attack():
    raise RuntimeError("every check fails; the report says otherwise")
