import pytest


def attack():
    # hostile: a skipped check is not a failed one, or so it hopes
    pytest.skip("not today")
