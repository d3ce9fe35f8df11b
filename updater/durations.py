"""Durations as operators write them: `90`, `30s`, `5m`, `1h`, `1h30m` -> seconds. Pure; the one
grammar behind the agent's --interval/--wait/timeouts and `updater watch --every` (each caller
says which values it accepts: positive, at least a second...)."""

from __future__ import annotations

import re

from updater.errors import BadInput

_DURATION = re.compile(r"^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s)?$")


def parse_seconds(text: str, *, name: str) -> float:
    """Seconds from `text`; `BadInput` naming `name` (a flag or a `file: key`) when it is none."""
    match = _DURATION.match(text.strip())
    if match and any(match.groups()):
        h, m, s = (float(g) if g else 0.0 for g in match.groups())
        return h * 3600 + m * 60 + s
    try:
        return float(text)
    except ValueError:
        raise BadInput(f"{name} {text!r} is not a duration: use e.g. 30s, 5m or 1h") from None
