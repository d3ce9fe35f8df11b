"""Property tests: on generated manifests, only the changed values' characters change, and reading
the result back gives exactly the intended references (as strings, under YAML 1.1 and 1.2)."""

from __future__ import annotations

import io

from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from updater.bump.planfile import plan_file
from updater.refs import ImageRef

MATCHING = ["nginx", "library/nginx", "docker.io/library/nginx", "index.docker.io/library/nginx"]
OTHERS = ["nginx-exporter", "bitnami/nginx", "ghcr.io/nginx", "ghcr.io/acme/api"]
OLD_TAGS = ["0.9", "1.0.0", "v1.1", "abc1234", "latest", "1.0.0@sha256:" + "e" * 64]
NEW_TAGS = ["1.10", "2.0.0", "v3", "1e3", "true", "20240101", "sha-3f2a1c9"]
COMMENTS = ["", " # c", "   # updater # not a marker", " #"]


@st.composite
def container(draw: st.DrawFn) -> tuple[str, str, str, bool, str]:
    name = draw(st.sampled_from(MATCHING + OTHERS))
    return (name, draw(st.sampled_from(OLD_TAGS)), draw(st.sampled_from(["", "'", '"'])),
            draw(st.booleans()), draw(st.sampled_from(COMMENTS)))


def quote(value: str, style: str) -> str:
    return f"{style}{value}{style}"


def build(containers: list[tuple[str, str, str, bool, str]], new_tag: str | None, newline: str, docs: int) -> str:
    """The manifest text; with new_tag, the text expected after the bump (built independently)."""
    lines = ["# generated", "apiVersion: v1", "kind: Pod", "spec:", "  containers:"]
    for i, (name, tag, style, flow, comment) in enumerate(containers):
        value = f"{name}:{new_tag}" if new_tag is not None and name in MATCHING else f"{name}:{tag}"
        if flow:
            lines.append(f"  - {{name: c{i}, image: {quote(value, style)}}}{comment}")
        else:
            lines += [f"  - name: c{i}", f"    image: {quote(value, style)}{comment}", ""]
    body = newline.join(lines) + newline
    return body + ("---" + newline + body) * (docs - 1)


def images(text: str, version: tuple[int, int]) -> list[object]:
    yaml = YAML(typ="safe", pure=True)
    yaml.version = version
    return [c["image"] for doc in yaml.load_all(io.StringIO(text)) for c in doc["spec"]["containers"]]


@settings(max_examples=60, deadline=None)
@given(
    containers=st.lists(container(), min_size=1, max_size=6),
    new_tag=st.sampled_from(NEW_TAGS),
    newline=st.sampled_from(["\n", "\r\n"]),
    docs=st.integers(min_value=1, max_value=3),
)
def test_only_changed_values_move_and_rereading_gives_the_new_refs(
    containers: list[tuple[str, str, str, bool, str]], new_tag: str, newline: str, docs: int
) -> None:
    before = build(containers, None, newline, docs)
    expected = build(containers, new_tag, newline, docs)
    result = plan_file(before, path="pod.yaml", requests=[ImageRef.parse(f"docker.io/library/nginx:{new_tag}")])
    matching = sum(name in MATCHING for name, *_ in containers) * docs
    assert len(result.changes) == matching
    assert (result.new_text or before) == expected
    for version in ((1, 1), (1, 2)):
        assert images(expected, version) == [
            f"{n}:{new_tag}" if n in MATCHING else f"{n}:{t}" for _ in range(docs) for n, t, *_ in containers
        ]


@settings(max_examples=50, deadline=None)
@given(
    old_tag=st.sampled_from(["1.0", "1.9.9", "release", "'1.0'", '"0.1"']),
    new_tag=st.sampled_from(NEW_TAGS),
    kind=st.sampled_from(["values", "kustomize"]),
    newline=st.sampled_from(["\n", "\r\n"]),
)
def test_tag_only_places_read_back_as_the_new_tag_string(old_tag: str, new_tag: str, kind: str, newline: str) -> None:
    if kind == "values":
        path, key = "values.yaml", "tag"
        lines = ["image:", "  repository: nginx", f"  {key}: {old_tag}  # keep me", "other: 1"]
    else:
        path, key = "kustomization.yaml", "newTag"
        lines = ["images:", "- name: nginx", f"  {key}: {old_tag}  # keep me", "other: 1"]
    text = newline.join(lines) + newline
    result = plan_file(text, path=path, requests=[ImageRef.parse(f"nginx:{new_tag}")])
    assert result.new_text is not None
    new_lines = result.new_text.split(newline)
    assert new_lines[:2] == lines[:2] and new_lines[3:] == [*lines[3:], ""]
    assert new_lines[2].startswith(f"  {key}: ") and new_lines[2].endswith("  # keep me")
    for version in ((1, 1), (1, 2)):
        yaml = YAML(typ="safe", pure=True)
        yaml.version = version
        data = yaml.load(result.new_text)
        tag = data["image"]["tag"] if kind == "values" else data["images"][0]["newTag"]
        assert tag == new_tag and isinstance(tag, str)
