"""Positions from the parser: exact source spans of scalars, through BOM, CRLF, anchors, aliases."""

from __future__ import annotations

import pytest

from updater.manifests.yaml import Mapping, Scalar, Sequence, YamlSyntaxError, parse_documents, walk


def spans(text: str) -> dict[str, str]:
    """value -> the source text of its span, for every editable scalar."""
    return {
        node.value: text[node.start:node.end]
        for doc in parse_documents(text) for node in walk(doc)
        if isinstance(node, Scalar) and node.editable
    }


def test_spans_include_quotes_and_exclude_anchors_and_comments() -> None:
    text = "\ufeffa: &x 'it''s'  # c\r\nb: \"q\"\r\nc: *x\r\nd: plain value\r\n"
    assert spans(text) == {"a": "a", "it's": "'it''s'", "b": "b", "q": '"q"', "c": "c", "d": "d", "plain value": "plain value"}


def test_alias_is_the_anchor_node() -> None:
    (doc,) = parse_documents("a: &x v\nb: *x\n")
    assert isinstance(doc, Mapping) and doc.get("a") is doc.get("b")


def test_merge_keys_are_looked_through() -> None:
    (doc,) = parse_documents("base: &b {image: x}\nc:\n  <<: *b\n  name: n\n")
    c = doc.get("c")  # type: ignore[union-attr]
    assert isinstance(c, Mapping) and isinstance(c.get("image"), Scalar) and c.scalar("image").value == "x"  # type: ignore[union-attr]


def test_block_and_multiline_scalars_are_not_editable() -> None:
    (doc,) = parse_documents("a: |\n  x\nb: one\n  two\nc: \"esc\\n\"\n")
    assert isinstance(doc, Mapping)
    assert [doc.scalar(k).editable for k in "abc"] == [False, False, False]  # type: ignore[union-attr]


def test_lines_are_one_based_and_documents_split() -> None:
    docs = parse_documents("---\na: 1\n...\n---\nb:\n- x\n")
    assert len(docs) == 2
    seq = docs[1].get("b")  # type: ignore[union-attr]
    assert isinstance(seq, Sequence) and seq.items[0].line == 6  # type: ignore[union-attr]


def test_empty_documents_are_dropped() -> None:
    assert parse_documents("") == [] and len(parse_documents("---\n---\na: 1\n")) == 1


def test_syntax_error_is_one_line_with_position() -> None:
    with pytest.raises(YamlSyntaxError, match=r"^line 3, column 3: could not find expected ':'$") as err:
        parse_documents("a: 1\n{{- if x }}\n  b: [\n")
    assert "\n" not in str(err.value)


def _flat(text: str, pure: bool) -> list[tuple[object, ...]]:
    out: list[tuple[object, ...]] = []
    for doc in parse_documents(text, pure=pure):
        for node in walk(doc):
            if isinstance(node, Scalar):
                out.append(("s", node.value, node.start, node.end, node.line, node.style))
            elif isinstance(node, Mapping):
                out.append(("m", node.flow, len(node.pairs)))
            else:
                out.append(("q", len(node.items)))
    return out


def test_c_and_pure_parsers_agree_on_every_golden_file() -> None:
    from pathlib import Path

    from updater.manifests import yaml as module

    assert module.CBaseLoader is not None, "ruamel.yaml.clibz is a dependency: the fast path must be tested"
    files = sorted((Path(__file__).parents[1] / "data" / "bump").glob("*/before/**/*"))
    texts = [p.read_bytes().decode() for p in files if p.is_file() and "templates" not in p.parts]
    texts.append("\ufeffa: &x 'it''s'  # c\r\nb: \"q\"\r\nc: *x\r\nd: é plain\r\n---\r\n# ééé\r\ne: [x, {f: 日本}]\r\n")
    assert len(texts) > 30
    for text in texts:
        assert _flat(text, pure=False) == _flat(text, pure=True)
