"""How lists merge: associative (keyed), set, or atomic — the slice of the OpenAPI schema that
server-side apply and strategic merge patch need. Pure.

The real API server reads `x-kubernetes-list-type`/`-map-keys` and `patchMergeKey` from its
schema; this emulator keeps a table by field name for the built-in kinds. Any list not named here
(including every list in a custom resource) is atomic: replaced as a whole, as for a CRD without
list annotations.
"""

from __future__ import annotations

from typing import Any, Literal

ListType = Literal["map", "set", "atomic"]

# field name -> key fields of its items
_MAP_KEYS: dict[str, tuple[str, ...]] = {
    "containers": ("name",),
    "initContainers": ("name",),
    "ephemeralContainers": ("name",),
    "env": ("name",),
    "volumes": ("name",),
    "volumeMounts": ("mountPath",),
    "volumeDevices": ("devicePath",),
    "imagePullSecrets": ("name",),
    "conditions": ("type",),
    "ownerReferences": ("uid",),
    "hostAliases": ("ip",),
    "topologySpreadConstraints": ("topologyKey", "whenUnsatisfiable"),
    "resourceClaims": ("name",),
    "readinessGates": ("conditionType",),
}
_SET_FIELDS = frozenset({"finalizers"})


def list_keys(field: str, items: list[Any]) -> tuple[str, ...] | None:
    """The merge keys of list `field`, or None when the list is not associative."""
    if field == "ports":
        # container ports are keyed by containerPort, service ports by port (protocol defaults to TCP)
        first = next((item for item in items if isinstance(item, dict)), {})
        return ("containerPort", "protocol") if "containerPort" in first else ("port", "protocol")
    return _MAP_KEYS.get(field)


def list_type(field: str, items: list[Any]) -> ListType:
    if field in _SET_FIELDS:
        return "set"
    if list_keys(field, items) is not None and all(isinstance(item, dict) for item in items):
        return "map"
    return "atomic"


def item_key(keys: tuple[str, ...], item: dict[str, Any]) -> dict[str, Any]:
    """The identity of `item` in its list: its values for the merge keys that it has.

    Protocol is a key with default TCP: {"port": 80} and {"port": 80, "protocol": "TCP"} are the
    same port, as on a real server where defaulting happens before merging.
    """
    found = {k: item[k] for k in keys if k in item}
    if "protocol" in keys and "protocol" not in found:
        found["protocol"] = "TCP"
    return found
