import _pytest.reports

_original = _pytest.reports.TestReport.from_item_and_call.__func__


def _always_passed(cls, item, call):
    # hostile: whatever happened, the report says it passed
    rep = _original(cls, item, call)
    rep.outcome, rep.longrepr = "passed", None
    return rep


_pytest.reports.TestReport.from_item_and_call = classmethod(_always_passed)


def attack():
    raise RuntimeError("every check fails; pytest will say otherwise")
