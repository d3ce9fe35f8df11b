"""Drift seen at once: one watch per kind per cluster on the objects the agent's apps own.

Each watch is label-selected (`updater.dev/app`, so only managed objects stream), starts from the
resourceVersion of a list, asks for bookmarks, and moves its resourceVersion with every event; on a
stream that ends it reconnects from there, on 410 Gone (the server no longer reaches back that
far) it lists again, on any other error it waits a little and retries. A change made by someone
other than the agent — a manual edit, a delete — calls `on_change(app, event type, object)`: the
agent heals it at once (`updater.agent.heal`) or wakes the cluster's loop, whose pass reports the
drift and, with self-heal, undoes it. The agent's own applies
and the controllers' status writes do not wake anything. Polling at each app's interval stays the
fallback (and the only way to see the git side move besides the webhook).

The set of kinds follows what the apps rendered (`kinds()`, asked again every few seconds); a
watch whose kind is no longer used is left to end with its stream. The count stays bounded: one
thread per kind, never one per object.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from updater.agent.client import KubeClient, KubeError, Resource
from updater.agent.objects import APP_LABEL, FIELD_MANAGER, Obj, labels

log = logging.getLogger("updater.agent")
Kind = tuple[str, str]  # (group, kind)


class Gone(Exception):
    """410: the resourceVersion is too old; list again."""


def foreign_change(event_type: str, obj: Obj) -> bool:
    """True when this event is someone else's doing: a delete, or a write whose newest
    (non-status) managed-fields entry is not the agent's. Pure."""
    if event_type == "DELETED":
        return True
    if event_type not in ("ADDED", "MODIFIED"):
        return False  # BOOKMARK
    entries = [e for e in (obj.get("metadata") or {}).get("managedFields") or []
               if isinstance(e, dict) and not e.get("subresource")]
    if not entries:
        return True
    newest = max(str(e.get("time") or "") for e in entries)
    return any(e.get("manager") != FIELD_MANAGER for e in entries if str(e.get("time") or "") == newest)


class DriftWatch:
    def __init__(self, client: KubeClient, kinds: Callable[[], Mapping[Kind, str]],
                 on_change: Callable[[str, str, Obj], None],
                 *, stop: threading.Event, refresh: float = 2.0, stream_seconds: int = 300,
                 retry: float = 1.0) -> None:
        self.client = client
        self.kinds = kinds
        self.on_change = on_change
        self.stop = stop
        self.refresh = refresh
        self.stream_seconds = stream_seconds  # the server ends a watch after this; we reconnect
        self.retry = retry
        self.watching: dict[Kind, threading.Thread] = {}
        self._thread: threading.Thread | None = None

    def start(self) -> DriftWatch:
        self._thread = threading.Thread(target=self._supervise, name="drift-watch", daemon=True)
        self._thread.start()
        return self

    def join(self, timeout: float | None = None) -> None:
        for thread in [self._thread, *self.watching.values()]:
            if thread is not None:
                thread.join(timeout)

    def _supervise(self) -> None:
        while not self.stop.is_set():
            try:
                wanted = dict(self.kinds())
            except Exception as err:  # noqa: BLE001 - a bad render must not end the watches
                log.debug("drift watch: kinds unknown this time: %s", err)
                wanted = {}
            for kind, version in wanted.items():
                if kind not in self.watching or not self.watching[kind].is_alive():
                    thread = threading.Thread(target=self._watch_kind, args=(version, kind), daemon=True,
                                              name=f"watch-{kind[1]}")
                    self.watching[kind] = thread
                    thread.start()
            self.stop.wait(self.refresh)

    def _watch_kind(self, version: str, wanted: Kind) -> None:
        kind = wanted[1]
        resource: Resource | None = None
        since: str | None = None
        pause = self.retry  # doubles while the watch keeps failing (forbidden, cluster down), up to a minute
        while not self.stop.is_set():
            try:
                resource = resource or self.client.resource(version, kind)
                if resource is None:
                    return  # not served (a CRD not installed yet): the supervisor tries again later
                if since is None:
                    since = self.client.list_version(resource, label_selector=APP_LABEL)
                for event_type, obj in self._stream(resource, since):
                    pause = self.retry
                    since = str((obj.get("metadata") or {}).get("resourceVersion") or since)
                    app = labels(obj).get(APP_LABEL)
                    if app and foreign_change(event_type, obj):
                        log.info("drift watch: %s %s/%s %s by someone else: app %s", kind,
                                 (obj.get("metadata") or {}).get("namespace", ""),
                                 (obj.get("metadata") or {}).get("name", ""), event_type.lower(), app)
                        self.on_change(app, event_type, obj)
                if not self._still_wanted(wanted):
                    return  # the stream ended and no app renders this kind any more
            except Gone:
                since = None  # list again: the events in between are lost, the next pass sees the result
            except (KubeError, ValueError) as err:
                log.debug("drift watch of %s: %s; retrying in %.0fs", kind, err, pause)
                self.stop.wait(pause)
                pause = min(60.0, pause * 2)

    def _still_wanted(self, kind: Kind) -> bool:
        try:
            return kind in self.kinds()
        except Exception:  # noqa: BLE001 - unknown this time: keep watching
            return True

    def _stream(self, resource: Resource, since: str) -> Iterator[tuple[str, Obj]]:
        params = {"labelSelector": APP_LABEL, "resourceVersion": since, "allowWatchBookmarks": "true"}
        try:
            for event in self.client.watch(resource, params=params, seconds=self.stream_seconds):
                if self.stop.is_set():
                    return
                event_type, obj = str(event.get("type")), event.get("object") or {}
                if event_type == "ERROR":
                    if obj.get("code") == 410:
                        raise Gone()
                    raise KubeError(f"watch {resource.plural}: {obj.get('message', 'error')}",
                                    status=obj.get("code", 0))
                yield event_type, obj  # a BOOKMARK too: it only moves the resourceVersion on
        except KubeError as err:
            if err.status == 410:
                raise Gone() from err
            raise
