"""Logging for people and for schedulers.

Stages log one record each when they end (stage, seconds, peak memory), and a night logs its
outcome. On a terminal the records are short lines on stderr; with ``--log-format json`` each is
one JSON object per line, carrying the run id, so Airflow or a log shipper can parse them.
"""

from __future__ import annotations

import json
import logging
import sys
import uuid
from typing import Any, Literal

LOGGER = logging.getLogger("walletrecon")
#: Fields a record may carry beyond its message (passed as ``extra``).
FIELDS = ("run_date", "stage", "seconds", "peak_rss_mib", "counts", "exit_code", "traceback")


class JsonFormatter(logging.Formatter):
    """One JSON object per record."""

    def __init__(self, run_id: str) -> None:
        super().__init__()
        self.run_id = run_id

    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "run_id": self.run_id,
            "message": record.getMessage(),
        }
        for name in FIELDS:
            if hasattr(record, name):
                document[name] = getattr(record, name)
        return json.dumps(document, default=str)


class TextFormatter(logging.Formatter):
    """Short lines for a person at a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        parts = [self.formatTime(record, "%H:%M:%S"), record.getMessage()]
        if hasattr(record, "seconds"):
            parts.append(f"{record.seconds:.2f}s")
        if hasattr(record, "peak_rss_mib"):
            parts.append(f"peak {record.peak_rss_mib} MiB")
        return "  ".join(parts)


def configure(log_format: Literal["text", "json"], verbose: bool) -> str:
    """Send walletrecon's records to stderr in the chosen format; return the run id."""
    run_id = uuid.uuid4().hex[:12]
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(run_id) if log_format == "json" else TextFormatter())
    LOGGER.handlers[:] = [handler]
    LOGGER.propagate = False
    # A library's Python warning becomes a record too, so JSON logs stay JSON lines only.
    # (Off, then on: re-installs the hook if something replaced it since the last run.)
    logging.captureWarnings(False)
    logging.captureWarnings(True)
    warnings_logger = logging.getLogger("py.warnings")
    warnings_logger.handlers[:] = [handler]
    warnings_logger.propagate = False
    LOGGER.setLevel(logging.INFO if verbose or log_format == "json" else logging.WARNING)
    return run_id
