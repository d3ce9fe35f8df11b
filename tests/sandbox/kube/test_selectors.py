"""Label and field selectors."""

from __future__ import annotations

import pytest

from updater_sandbox.kube.selectors import field_selector, label_selector


def obj(name: str, **labels: str) -> dict:
    return {"metadata": {"name": name, "namespace": "ns", "labels": labels}, "status": {"phase": "Running"}}


OBJECTS = [obj("a", app="web", env="prod"), obj("b", app="web", env="dev"), obj("c", app="db")]


@pytest.mark.parametrize(("selector", "expected"), [
    ("", ["a", "b", "c"]),
    ("app=web", ["a", "b"]),
    ("app==web,env=dev", ["b"]),
    ("app!=web", ["c"]),
    ("env in (prod, staging)", ["a"]),
    ("env notin (prod)", ["b", "c"]),
    ("env", ["a", "b"]),
    ("!env", ["c"]),
    ("app=web,env notin (dev)", ["a"]),
])
def test_label_selectors(selector: str, expected: list[str]) -> None:
    match = label_selector(selector)
    assert [o["metadata"]["name"] for o in OBJECTS if match(o)] == expected


def test_field_selectors() -> None:
    assert [o["metadata"]["name"] for o in OBJECTS if field_selector("metadata.name=b")(o)] == ["b"]
    assert [o["metadata"]["name"] for o in OBJECTS if field_selector("metadata.name!=b,metadata.namespace=ns")(o)] == ["a", "c"]
    assert all(field_selector("status.phase=Running")(o) for o in OBJECTS)


@pytest.mark.parametrize("bad", ["app in prod", "a=b=c", "!env in (x)"])
def test_malformed_selectors_raise(bad: str) -> None:
    with pytest.raises(ValueError):
        label_selector(bad)
