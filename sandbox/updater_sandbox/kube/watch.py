"""Watch streams: the newline-delimited JSON events a `?watch=true` request receives.

Without a resourceVersion (or with "0") a watch starts with an ADDED event per current object, as
the real server does; with one it replays the event log after it (410 Gone when the log no longer
reaches back that far). The stream ends after `timeout` seconds or when `stopping` is set.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from updater_sandbox.kube.discovery import ResourceType
from updater_sandbox.kube.store import Obj, Store


def _line(kind: str, obj: dict[str, Any]) -> bytes:
    return json.dumps({"type": kind, "object": obj}).encode() + b"\n"


def _gone(rv: str) -> bytes:
    return _line("ERROR", {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                           "message": f"too old resource version: {rv}", "reason": "Expired", "code": 410})


def _initial_events_end(rt: ResourceType, rv: str) -> bytes:
    """The bookmark that tells a watch-list client (`sendInitialEvents=true`) the snapshot is complete."""
    return _line("BOOKMARK", {"kind": rt.kind, "apiVersion": rt.api_version, "metadata": {
        "resourceVersion": rv, "annotations": {"k8s.io/initial-events-end": "true"}}})


def watch_stream(store: Store, rt: ResourceType, namespace: str, match: Callable[[Obj], bool], since: str,
                 timeout: float, stopping: threading.Event | None, *, initial_events: bool = False
                 ) -> Iterator[bytes]:
    deadline = time.monotonic() + timeout
    if since not in ("", "0") and not since.isdigit():
        yield _gone(since)
        return
    with store.lock:
        if since in ("", "0") or initial_events:
            items, current = store.list(rt, namespace or None, match, copy=False)
            initial = [_line("ADDED", obj) for obj in items]
            if initial_events:
                initial.append(_initial_events_end(rt, current))
            last, expired = int(current), False
        else:
            initial, last = [], int(since)
            expired = bool(store.events) and store.events[0].resource_version > last + 1
    if expired:
        yield _gone(since)
        return
    yield from initial
    while time.monotonic() < deadline and not (stopping and stopping.is_set()):
        with store.lock:
            fresh = []
            for event in reversed(store.events):  # newest first: only the events after `last` are read
                if event.resource_version <= last:
                    break
                if event.key == rt.key:
                    fresh.append(event)
            fresh.reverse()
            if store.events:
                last = max(last, store.events[-1].resource_version)
            if not fresh:
                store.changed.wait(min(0.5, max(deadline - time.monotonic(), 0)))
        for event in fresh:
            obj = event.object
            meta = obj.get("metadata") or {}
            if (not namespace or meta.get("namespace", "") == namespace) and match(obj):
                yield _line(event.type, obj)
