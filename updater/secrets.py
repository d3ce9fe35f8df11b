"""Masking of secrets in everything updater prints, logs or raises.

Tokens are registered once, as soon as they are read from the environment and before any clone or
API call; from then on `mask()` replaces them with `***` in every form they can be printed in: as
given, stripped of surrounding whitespace, percent-decoded (a password from a URL), each line of a
multi-line value on its own, and each of those URL-encoded and base64-encoded as Basic auth. The logging filter installed by `updater.cli` applies it to every record, and the CLI
applies it to every error message, so a token cannot leak through a forgotten code path.
"""

from __future__ import annotations

import base64
import logging
import threading
from urllib.parse import quote, quote_plus, unquote

_MASK = "***"
_lock = threading.Lock()
_secrets: set[str] = set()


def register_secret(value: str | None) -> None:
    """Mask `value` (and every form listed in the module docstring) from now on."""
    if not value:
        return
    variants = {value, value.strip(), unquote(value), unquote(value).strip()}
    variants |= {line.strip() for variant in list(variants) for line in variant.splitlines()}
    forms = set()
    for variant in variants:
        if len(variant) < 4:  # masking "a" would mangle every message
            continue
        forms |= {variant, quote(variant, safe=""), quote(variant), quote_plus(variant)}
        for user in ("x-access-token", "oauth2", "git", "token", ""):
            forms.add(base64.b64encode(f"{user}:{variant}".encode()).decode())
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
