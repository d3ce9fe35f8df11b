"""The emulator's request and response values, shared by the HTTP edge and the operations. Pure."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from updater_sandbox.kube import errors, selectors
from updater_sandbox.kube.store import Obj

APPLY = "application/apply-patch+yaml"


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes = b""

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip()

    @property
    def dry_run(self) -> bool:
        return self.query.get("dryRun") == "All"


@dataclass(frozen=True)
class Response:
    code: int
    body: Any = None
    stream: Iterator[bytes] | None = None
    content_type: str = "application/json"


@dataclass(frozen=True)
class Operation:
    """What a request did, for the request log: a Kubernetes verb and the resource it addressed."""

    verb: str
    group: str = ""
    resource: str = ""
    namespace: str = ""
    name: str = ""
    subresource: str = ""


def selection(request: Request) -> Callable[[Obj], bool]:
    """The request's labelSelector and fieldSelector as one predicate (400 when malformed)."""
    try:
        labels = selectors.label_selector(request.query.get("labelSelector", ""))
        fields = selectors.field_selector(request.query.get("fieldSelector", ""))
    except ValueError as err:
        raise errors.bad_request(str(err)) from err
    return lambda obj: labels(obj) and fields(obj)


def json_body(request: Request, *, allow_list: bool = False) -> Any:
    if "protobuf" in request.content_type or "cbor" in request.content_type:
        raise errors.unsupported_media_type(request.content_type)
    try:
        body = json.loads(request.body or b"null")
    except ValueError as err:
        raise errors.bad_request(
            f"the request body is not JSON ({err}); this emulator accepts JSON bodies only (YAML is a superset: "
            "send JSON with any content type)") from err
    if not isinstance(body, dict) and not (allow_list and isinstance(body, list)):
        raise errors.bad_request("the request body must be a JSON object")
    return body


def scale_view(obj: Obj) -> Obj:
    meta = obj["metadata"]
    selector = ((obj.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    return {"kind": "Scale", "apiVersion": "autoscaling/v1",
            "metadata": {k: meta.get(k) for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")},
            "spec": {"replicas": (obj.get("spec") or {}).get("replicas", 0)},
            "status": {"replicas": (obj.get("status") or {}).get("replicas", 0),
                       "selector": ",".join(f"{k}={v}" for k, v in selector.items())}}
