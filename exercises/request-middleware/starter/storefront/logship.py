"""The log shipper: every record, one JSON line, to the log collector.

In production a collector (Vector, Fluent Bit, ...) listens on
LOG_COLLECTOR and indexes what arrives; the dashboards group lines by their
``request_id``. This handler ships the record's fields as they are: it
reads ``record.request_id`` and never sets it.

When nothing listens (the public tests, a laptop) records are dropped and
the handler tries to connect again at most once a second. Do not change
this file: it is not one a candidate may edit.
"""

import json
import logging
import socket
import time


class CollectorHandler(logging.Handler):
    def __init__(self, host="127.0.0.1", port=5170):
        super().__init__()
        self.address = (host, int(port))
        self.sock = None
        self.retry_at = 0.0

    def format_line(self, record):
        return (json.dumps({
            "time": record.created,
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
            "process": record.process,
            "thread": record.thread,
        }) + "\n").encode()

    def emit(self, record):
        try:
            data = self.format_line(record)
        except Exception:
            self.handleError(record)
            return
        self.ship(data)

    def ship(self, data):
        """ship sends one line (emit holds the handler's lock)."""
        for _ in range(2):
            if self.sock is None:
                if time.monotonic() < self.retry_at:
                    return
                try:
                    self.sock = socket.create_connection(self.address, timeout=2)
                except OSError:
                    self.retry_at = time.monotonic() + 1.0
                    return
            try:
                self.sock.sendall(data)
                return
            except OSError:
                self.sock.close()
                self.sock = None

    def close(self):
        with self.lock:
            if self.sock is not None:
                self.sock.close()
                self.sock = None
        super().close()
