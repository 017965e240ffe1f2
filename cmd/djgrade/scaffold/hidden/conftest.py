"""Fixtures of the hidden checks: the candidate's project, migrated and served.

The hidden checks run in the judge's container, over the exercise's untouched
starter: they seed data through its models (committed, so the candidate's
server sees it) and call the server over HTTP with the judge's `app` client.
"""

import pytest
from djgrade_judge import freeze_schema


@pytest.fixture(scope="session", autouse=True)
def served(candidate, django_db_blocker):
    """The candidate's project, migrated on the judge's database and served by gunicorn."""
    result = candidate.manage("migrate", "--noinput")
    assert result.ok, "migrate failed in the candidate's project:\n%s" % result.output
    with django_db_blocker.unblock():
        # From here the app may read and write rows, and change nothing else.
        freeze_schema()
    candidate.serve()
    return candidate
