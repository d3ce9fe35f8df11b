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

try:  # ruamel's optional C parser (package ruamel.yaml.clibz or ruamel.yaml.clib)
    from ruamel.yaml.cyaml import CBaseLoader
except ImportError:  # pragma: no cover - depends on the installation
    CBaseLoader = None


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


def parse_documents(text: str, *, pure: bool = False) -> list[YamlNode]:
    """Every document of a (multi-document) YAML text; empty documents are left out.

    Uses ruamel's C parser when it is installed (about 25x faster), else (or with `pure`, or when the
    C parser rejects the text) the pure-Python one; both report the same positions.
    """
    # The C parser skips a BOM without counting it; parse without it and shift every position back.
    offset = 1 if text.startswith("\ufeff") else 0
    roots = None
    if not pure and CBaseLoader is not None:
        try:
            roots = _compose_c(text[offset:])
        except YAMLError:
            roots = None  # e.g. a `%YAML 1.2` directive libyaml refuses: let the pure parser decide
    if roots is None:
        offset = 0
        try:
            roots = list(YAML(typ="rt", pure=True).compose_all(text))
        except YAMLError as err:
            raise YamlSyntaxError(_describe(err)) from err
    converter = _Converter(text, offset)
    return [converter.convert(node) for node in roots if not _is_empty(node)]


def _compose_c(text: str) -> list[Node]:
    loader = CBaseLoader(text)
    roots = []
    while loader.check_node():
        roots.append(loader.get_node())
    return roots


def _is_empty(node: Node | None) -> bool:
    return node is None or (isinstance(node, ScalarNode) and node.value == "" and not node.style)


def _describe(err: YAMLError) -> str:
    """`line L, column C: problem` rather than ruamel's multi-line report."""
    mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
    problem = getattr(err, "problem", None) or getattr(err, "context", None) or type(err).__name__
    return f"line {mark.line + 1}, column {mark.column + 1}: {problem}" if mark else str(problem)


class _Converter:
    """ruamel nodes → our nodes, positions shifted by `offset`; aliases map to their anchor's node."""

    def __init__(self, text: str, offset: int) -> None:
        self.text, self.offset = text, offset
        self.memo: dict[int, YamlNode] = {}

    def convert(self, node: Node) -> YamlNode:
        if id(node) in self.memo:
            return self.memo[id(node)]
        start, end = node.start_mark.index + self.offset, node.end_mark.index + self.offset
        if isinstance(node, ScalarNode):
            result: YamlNode = self._scalar(node, start, end)
            self.memo[id(node)] = result
            return result
        if isinstance(node, SequenceNode):
            seq = Sequence(start=start, end=end)
            self.memo[id(node)] = seq
            seq.items = [self.convert(item) for item in node.value]
            return seq
        assert isinstance(node, MappingNode)
        mapping = Mapping(start=start, end=end, flow=bool(node.flow_style))
        self.memo[id(node)] = mapping
        mapping.pairs = [(self.convert(k), self.convert(v)) for k, v in node.value]
        return mapping

    def _scalar(self, node: ScalarNode, node_start: int, end: int) -> Scalar:
        style = node.style or ""
        value = str(node.value)
        spelled = source_spelling(value, style)
        start = end - len(spelled) if spelled is not None and self.text[end - len(spelled):end] == spelled else -1
        if start < node_start:
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
