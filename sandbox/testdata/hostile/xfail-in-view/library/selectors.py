import pytest


def attack():
    # hostile: an expected failure is not a failure, or so it hopes
    pytest.xfail("known issue")
