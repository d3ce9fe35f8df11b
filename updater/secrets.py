"""Masking of secrets in everything updater prints, logs or raises.

Tokens are registered once, as soon as they are read from the environment and before any clone or
API call; from then on `mask()` replaces them (and their URL-encoded and base64 Basic-auth forms)
with `***`. The logging filter installed by `updater.cli` applies it to every record, and the CLI
applies it to every error message, so a token cannot leak through a forgotten code path.
"""

from __future__ import annotations

import base64
import logging
import threading
from urllib.parse import quote

_MASK = "***"
_lock = threading.Lock()
_secrets: set[str] = set()


def register_secret(value: str | None) -> None:
    """Mask `value` (and the forms it takes in URLs and Basic auth headers) from now on."""
    if not value or len(value) < 4:  # masking "a" would mangle every message
        return
    forms = {value, quote(value, safe="")}
    for user in ("x-access-token", "oauth2", "git", "token", ""):
        forms.add(base64.b64encode(f"{user}:{value}".encode()).decode())
    with _lock:
        _secrets.update(forms)


def forget_secrets() -> None:
    """Tests only: start from an empty registry."""
    with _lock:
        _secrets.clear()


def mask(text: str) -> str:
    """`text` with every registered secret replaced by `***`."""
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, _MASK)
    return text


class MaskingFilter(logging.Filter):
    """Rewrites each log record's final message through `mask()`."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask(message)
        if masked != message or record.args:
            record.msg, record.args = masked, None
        return True
