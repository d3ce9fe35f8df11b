"""Structured logs for the agent: one JSON object per line (`updater agent --log-format json`).

Log aggregators in a cluster parse these without regexes: every record has time, level, logger and
message, and the agent's pass summaries add app, commit, sync, health and counts as their own keys
(passed as `extra={"fields": {...}}`). Masking still applies: the CLI's `MaskingFilter` rewrites the
message before this formatter sees it, and field values are masked here.
"""

from __future__ import annotations

import json
import logging
import time

from updater.secrets import mask


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": mask(record.getMessage()),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update({k: mask(v) if isinstance(v, str) else v for k, v in fields.items()})
        if record.exc_info:
            entry["error"] = mask(self.formatException(record.exc_info))
        return json.dumps(entry, default=str)


def use_json_logs() -> None:
    """Switch every handler the CLI installed to JSON lines (their filters, e.g. masking, stay)."""
    for handler in logging.getLogger().handlers:
        handler.setFormatter(JsonFormatter())
