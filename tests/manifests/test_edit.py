"""Splicing edits into the original text: only the changed characters move."""

from __future__ import annotations

import pytest

from updater.manifests.edit import Edit, EditConflict, delete_key, needs_quotes, render_scalar, set_key, splice
from updater.manifests.yaml import Mapping, Sequence, parse_documents


@pytest.mark.parametrize("value", ["1.10", "1", "007", "1e3", "1E-3", ".5", "true", "False", "yes", "on", "NO",
                                   "y", "null", "~", "0x1F", "1:20", ".inf", "2024-01-02", "", "a b", "#x", "-", "x:"])
def test_needs_quotes(value: str) -> None:
    assert needs_quotes(value)


@pytest.mark.parametrize("value", ["1.4.2", "v1.10", "latest", "1.10-alpine", "ghcr.io/acme/api:1.10",
                                   "sha256:abc", "3f2a1c9", "1.0_rc1", "acme/api@sha256:ab"])
def test_plain_is_fine(value: str) -> None:
    assert not needs_quotes(value)


def test_render_keeps_quoting_style_and_quotes_plain_only_when_required() -> None:
    assert render_scalar("1.4.2", "") == "1.4.2"
    assert render_scalar("1.10", "") == '"1.10"'
    assert render_scalar("1.10", "'") == "'1.10'"
    assert render_scalar("1.4.2", '"') == '"1.4.2"'
    assert render_scalar("it's", "'") == "'it''s'"


def test_splice_keeps_everything_else() -> None:
    text = "a: 1\r\nb: 2 # c\r\n"
    assert splice(text, [Edit(9, 10, "'x'")]) == "a: 1\r\nb: 'x' # c\r\n"
    assert splice(text, [Edit(3, 4, "9"), Edit(3, 4, "9")]) == "a: 9\r\nb: 2 # c\r\n"
    with pytest.raises(EditConflict):
        splice(text, [Edit(3, 4, "9"), Edit(3, 5, "8")])


def entry(text: str, index: int = 0) -> Mapping:
    (doc,) = parse_documents(text)
    images = doc.get("images")  # type: ignore[union-attr]
    assert isinstance(images, Sequence)
    found = images.items[index]
    assert isinstance(found, Mapping)
    return found


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("images:\n- name: a  # c\n  newName: b\nx: 1\n", "images:\n- name: a  # c\n  newName: b\n  newTag: \"1.10\"\nx: 1\n"),
        ("images:\r\n  - name: a\r\n", "images:\r\n  - name: a\r\n    newTag: \"1.10\"\r\n"),
        ("images: [{name: a}]\n", "images: [{name: a, newTag: \"1.10\"}]\n"),
        ("images:\n- name: a", "images:\n- name: a\n  newTag: \"1.10\""),
        ("images:\n- name: a\n  newTag: '1'\n", "images:\n- name: a\n  newTag: '1.10'\n"),
    ],
)
def test_set_key_inserts_or_replaces(text: str, expected: str) -> None:
    assert splice(text, [set_key(text, entry(text), "newTag", "1.10")]) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("images:\n- name: a\n  digest: d # pin\n  newTag: t\n", "images:\n- name: a\n  newTag: t\n"),
        ("images:\n- name: a # keep\n  digest: d # pin\nz: 1\n", "images:\n- name: a # keep\nz: 1\n"),
        ("images:\r\n- digest: d\r\n  name: a\r\n", "images:\r\n- name: a\r\n"),
        ("images: [{name: a, digest: d}]\n", "images: [{name: a}]\n"),
        ("images: [{digest: d, name: a}]\n", "images: [{name: a}]\n"),
    ],
)
def test_delete_key(text: str, expected: str) -> None:
    assert splice(text, [delete_key(text, entry(text), "digest")]) == expected
