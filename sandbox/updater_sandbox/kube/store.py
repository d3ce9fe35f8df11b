"""The emulator's state: objects by resource, namespace and name, with a global resourceVersion.

`Store` keeps deep copies (nothing handed out aliases stored state), stamps identity on create
(uid, creationTimestamp, generation 1), enforces `resourceVersion` preconditions (409 Conflict),
bumps `generation` when anything outside metadata/status changes, and skips writes that change
nothing (no new resourceVersion, as a real server does for no-op updates). Every write is recorded
in a bounded event log that watches read. `lock` lets callers make read-modify-write atomic.
"""

from __future__ import annotations

import itertools
import json
import threading
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from updater_sandbox.kube import errors
from updater_sandbox.kube.discovery import ResourceType
from updater_sandbox.kube.tree import clone

Obj = dict[str, Any]
INITIAL_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


def utc_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class WatchEvent:
    resource_version: int
    type: str  # ADDED, MODIFIED, DELETED
    key: tuple[str, str]
    object: Obj


def _spec_part(obj: Obj) -> Obj:
    return {k: v for k, v in obj.items() if k not in ("metadata", "status", "apiVersion", "kind")}


def _comparable(obj: Obj) -> Obj:
    meta = {k: v for k, v in (obj.get("metadata") or {}).items() if k != "resourceVersion"}
    return {**obj, "metadata": meta}


class Store:
    def __init__(self, clock: Callable[[], str] = utc_now, event_log_size: int = 10000) -> None:
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.clock = clock
        self._objects: dict[tuple[str, str], dict[tuple[str, str], Obj]] = {}
        self._rv = itertools.count(1)
        self._last_rv = 0
        self.events: deque[WatchEvent] = deque(maxlen=event_log_size)
        self._json: dict[int, tuple[Obj, bytes]] = {}  # id(stored object) -> (it, its JSON)
        self.on_write: list[Callable[[ResourceType, Obj | None, Obj | None], None]] = []
        for name in INITIAL_NAMESPACES:
            self._bucket(("", "namespaces"))[("", name)] = self._stamp_new(
                {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name},
                 "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}})

    # -- reads --------------------------------------------------------------------------------
    @property
    def resource_version(self) -> str:
        return str(self._last_rv)

    def _bucket(self, key: tuple[str, str]) -> dict[tuple[str, str], Obj]:
        return self._objects.setdefault(key, {})

    def peek(self, rt: ResourceType, namespace: str, name: str) -> Obj | None:
        """The stored object itself (no copy) or None; only under `lock`, never to be mutated."""
        return self._bucket(rt.key).get((namespace if rt.namespaced else "", name))

    def get(self, rt: ResourceType, namespace: str, name: str, *, copy: bool = True) -> Obj:
        """The object; `copy=False` shares the stored dict (read-only use, e.g. serializing a response:
        stored dicts are replaced on write, never changed in place)."""
        with self.lock:
            obj = self.peek(rt, namespace, name)
            if obj is None:
                raise errors.not_found(rt.group, rt.plural, name)
            return clone(obj) if copy else obj

    def list(self, rt: ResourceType, namespace: str | None, match: Callable[[Obj], bool] = lambda o: True,
             *, copy: bool = True) -> tuple[list[Obj], str]:
        with self.lock:
            items = [
                clone(obj) if copy else obj
                for (ns, _), obj in sorted(self._bucket(rt.key).items())
                if (not namespace or ns == namespace) and match(obj)
            ]
            return items, self.resource_version

    # -- writes -------------------------------------------------------------------------------
    def _next_rv(self) -> str:
        self._last_rv = next(self._rv)
        return str(self._last_rv)

    def _stamp_new(self, obj: Obj) -> Obj:
        meta = obj.setdefault("metadata", {})
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = self.clock()
        meta["generation"] = 1
        meta["resourceVersion"] = self._next_rv()
        return obj

    def encoded(self, obj: Obj) -> bytes:
        """The JSON of a stored object, serialized once: stored objects never change, and lists of
        thousands of objects are mostly serialization otherwise."""
        cached = self._json.get(id(obj))
        if cached is not None and cached[0] is obj:  # the identity check makes a reused id harmless
            return cached[1]
        data = json.dumps(obj, separators=(",", ":")).encode()
        self._json[id(obj)] = (obj, data)
        return data

    def _record(self, rt: ResourceType, kind: str, old: Obj | None, new: Obj | None, shown: Obj) -> None:
        if old is not None:
            self._json.pop(id(old), None)
        # stored dicts are replaced, never mutated, so the log can share them
        self.events.append(WatchEvent(int(shown["metadata"]["resourceVersion"]), kind, rt.key, shown))
        self.changed.notify_all()
        for hook in self.on_write:
            hook(rt, old, new)

    def create(self, rt: ResourceType, obj: Obj, *, dry_run: bool = False, fresh: bool = False) -> Obj:
        """Store a new object. `fresh`: the caller holds no other reference to `obj`, so the store may
        keep it without a copy. The result is the stored object: read it, never change it."""
        obj = obj if fresh else clone(obj)
        meta = obj.setdefault("metadata", {})
        name, namespace = meta.get("name", ""), meta.get("namespace", "") if rt.namespaced else ""
        with self.lock:
            if rt.namespaced and self._bucket(("", "namespaces")).get(("", namespace)) is None:
                raise errors.not_found("", "namespaces", namespace)
            if (namespace, name) in self._bucket(rt.key):
                raise errors.already_exists(rt.group, rt.plural, name)
            meta.pop("resourceVersion", None)
            if dry_run:
                meta.setdefault("uid", str(uuid.uuid4()))
                meta["creationTimestamp"] = self.clock()
                meta["generation"] = 1
                return obj
            self._stamp_new(obj)
            self._bucket(rt.key)[(namespace, name)] = obj
            self._record(rt, "ADDED", None, obj, obj)
            return obj

    def update(self, rt: ResourceType, obj: Obj, *, dry_run: bool = False, fresh: bool = False) -> Obj:
        """Replace the stored object; a set `metadata.resourceVersion` must be the current one.
        `fresh` and the result as for `create`."""
        obj = obj if fresh else clone(obj)
        meta = obj.setdefault("metadata", {})
        name, namespace = meta.get("name", ""), meta.get("namespace", "") if rt.namespaced else ""
        with self.lock:
            old = self._bucket(rt.key).get((namespace, name))
            if old is None:
                raise errors.not_found(rt.group, rt.plural, name)
            wanted_rv = meta.get("resourceVersion")
            if wanted_rv and wanted_rv != old["metadata"]["resourceVersion"]:
                raise errors.conflict(rt.group, rt.plural, name,
                                      "the object has been modified; please apply your changes to the latest "
                                      "version and try again")
            for key in ("uid", "creationTimestamp", "generation", "deletionTimestamp"):  # server-owned
                if key in old["metadata"]:
                    meta[key] = old["metadata"][key]
                else:
                    meta.pop(key, None)
            if _spec_part(obj) != _spec_part(old):
                meta["generation"] = (old["metadata"].get("generation") or 0) + 1
            meta["resourceVersion"] = old["metadata"]["resourceVersion"]
            if _comparable(obj) == _comparable(old):
                return old
            if dry_run:
                return obj
            if meta.get("deletionTimestamp") and not meta.get("finalizers"):
                return self._remove(rt, namespace, name)
            meta["resourceVersion"] = self._next_rv()
            self._bucket(rt.key)[(namespace, name)] = obj
            self._record(rt, "MODIFIED", old, obj, obj)
            return obj

    def delete(self, rt: ResourceType, namespace: str, name: str, *, dry_run: bool = False,
               precondition_rv: str = "", precondition_uid: str = "") -> Obj:
        """Delete now, or mark for deletion while finalizers remain (a later update clears them)."""
        namespace = namespace if rt.namespaced else ""
        with self.lock:
            old = self._bucket(rt.key).get((namespace, name))
            if old is None:
                raise errors.not_found(rt.group, rt.plural, name)
            if (precondition_rv and precondition_rv != old["metadata"]["resourceVersion"]) or (
                    precondition_uid and precondition_uid != old["metadata"]["uid"]):
                raise errors.conflict(rt.group, rt.plural, name, "the precondition for the delete was not met")
            if dry_run:
                return clone(old)
            if old["metadata"].get("finalizers") and rt.key != ("", "namespaces"):
                marked = clone(old)
                marked["metadata"].setdefault("deletionTimestamp", self.clock())
                marked["metadata"]["resourceVersion"] = self._next_rv()
                self._bucket(rt.key)[(namespace, name)] = marked
                self._record(rt, "MODIFIED", old, marked, marked)
                return clone(marked)
            return self._remove(rt, namespace, name)

    def _remove(self, rt: ResourceType, namespace: str, name: str) -> Obj:
        old = self._bucket(rt.key).pop((namespace, name))
        gone = clone(old)
        gone["metadata"]["resourceVersion"] = self._next_rv()
        self._record(rt, "DELETED", old, None, gone)
        return clone(gone)
