"""The one door to ruamel.yaml: text in, a tree of nodes with exact source positions out.

We never dump YAML. The parser is used only to find where each scalar's text sits in the original
string, so edits can splice those characters and leave every other byte alone. Positions are
`str` indices into the text given (a BOM, CRLF line ends and multi-byte characters are all counted
as the parser saw them). Aliases resolve to the very same node object as their anchor, so an edit
to an anchored value is made once, at the anchor.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode


class YamlSyntaxError(ValueError):
    """The text is not YAML (a Helm template, a broken file); the message has the position."""


@dataclass(eq=False)
class Scalar:
    value: str
    # [start, end) of the scalar's own characters including quotes (anchor/tag excluded); -1 when
    # the source does not spell the value on one line without escapes (then it is not editable).
    start: int
    end: int
    line: int  # 1-based line of the value's end
    style: str  # "" plain, "'" or '"' quoted, "|" or ">" block

    @property
    def editable(self) -> bool:
        return self.start >= 0


@dataclass(eq=False)
class Mapping:
    pairs: list[tuple[Scalar | Mapping | Sequence, Scalar | Mapping | Sequence]] = field(default_factory=list)
    start: int = 0
    end: int = 0
    flow: bool = False

    def get(self, key: str) -> Scalar | Mapping | Sequence | None:
        """The value under `key`, looking through `<<` merge keys like a YAML loader does."""
        for k, v in self.pairs:
            if isinstance(k, Scalar) and k.value == key:
                return v
        for k, v in self.pairs:
            if isinstance(k, Scalar) and k.value == "<<":
                for merged in ([v] if isinstance(v, Mapping) else v.items if isinstance(v, Sequence) else []):
                    if isinstance(merged, Mapping) and (found := merged.get(key)) is not None:
                        return found
        return None

    def key_of(self, key: str) -> Scalar | None:
        for k, _ in self.pairs:
            if isinstance(k, Scalar) and k.value == key:
                return k
        return None

    def scalar(self, key: str) -> Scalar | None:
        value = self.get(key)
        return value if isinstance(value, Scalar) else None


@dataclass(eq=False)
class Sequence:
    items: list[Scalar | Mapping | Sequence] = field(default_factory=list)
    start: int = 0
    end: int = 0


YamlNode = Scalar | Mapping | Sequence


def parse_documents(text: str) -> list[YamlNode]:
    """Every document of a (multi-document) YAML text; empty documents are left out."""
    yaml = YAML(typ="rt", pure=True)
    try:
        roots = [node for node in yaml.compose_all(text) if not _is_empty(node)]
    except YAMLError as err:
        raise YamlSyntaxError(_describe(err)) from err
    memo: dict[int, YamlNode] = {}
    return [_convert(node, text, memo) for node in roots]


def _is_empty(node: Node | None) -> bool:
    return node is None or (isinstance(node, ScalarNode) and node.value == "" and node.tag.endswith(":null"))


def _describe(err: YAMLError) -> str:
    """`line L, column C: problem` rather than ruamel's multi-line report."""
    mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
    problem = getattr(err, "problem", None) or getattr(err, "context", None) or type(err).__name__
    return f"line {mark.line + 1}, column {mark.column + 1}: {problem}" if mark else str(problem)


def _convert(node: Node, text: str, memo: dict[int, YamlNode]) -> YamlNode:
    if id(node) in memo:  # an alias: the anchor's node
        return memo[id(node)]
    if isinstance(node, ScalarNode):
        result: YamlNode = _scalar(node, text)
        memo[id(node)] = result
        return result
    if isinstance(node, SequenceNode):
        seq = Sequence(start=node.start_mark.index, end=node.end_mark.index)
        memo[id(node)] = seq
        seq.items = [_convert(item, text, memo) for item in node.value]
        return seq
    assert isinstance(node, MappingNode)
    mapping = Mapping(start=node.start_mark.index, end=node.end_mark.index, flow=bool(node.flow_style))
    memo[id(node)] = mapping
    mapping.pairs = [(_convert(k, text, memo), _convert(v, text, memo)) for k, v in node.value]
    return mapping


def _scalar(node: ScalarNode, text: str) -> Scalar:
    style = node.style or ""
    value = str(node.value)
    end = node.end_mark.index
    spelled = source_spelling(value, style)
    start = end - len(spelled) if spelled is not None and text[end - len(spelled):end] == spelled else -1
    if start < node.start_mark.index:
        start = -1
    return Scalar(value, start, end if start >= 0 else -1, node.end_mark.line + 1, style)


def source_spelling(value: str, style: str) -> str | None:
    """How a one-line scalar with this value and style is written, or None when we would not write it."""
    if "\n" in value or "\r" in value or style in ("|", ">"):
        return None
    if style == "":
        return value
    if style == "'":
        return "'" + value.replace("'", "''") + "'"
    if any(c in value for c in '"\\') or not value.isprintable():
        return None
    return f'"{value}"'


def walk(node: YamlNode, seen: set[int] | None = None) -> Iterator[YamlNode]:
    """Every node under `node` (itself included), each once even when aliased."""
    seen = set() if seen is None else seen
    stack = [node]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        if isinstance(current, Mapping):
            for k, v in reversed(current.pairs):
                stack.extend((v, k))
        elif isinstance(current, Sequence):
            stack.extend(reversed(current.items))
