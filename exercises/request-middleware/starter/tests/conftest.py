import json
import logging

import pytest

from storefront.logship import CollectorHandler


@pytest.fixture
def shipped(monkeypatch):
    """shipped is the list of records (dicts) the collector handler ships during the test."""
    records = []
    handlers = [h for h in logging.getLogger().handlers if isinstance(h, CollectorHandler)]
    assert handlers, "the root logger has no CollectorHandler: keep the collector handler of LOGGING"
    for h in handlers:
        monkeypatch.setattr(h, "ship", lambda data: records.append(json.loads(data)))
    return records
