"""The one door to ruamel.yaml: text in, a tree of nodes with exact source positions out.

We never dump YAML. The parser is used only to find where each scalar's text sits in the original
string, so edits can splice those characters and leave every other byte alone. Positions are
`str` indices into the text given (a BOM, CRLF line ends and multi-byte characters are all counted
as the parser saw them). Aliases resolve to the very same node object as their anchor, so an edit
to an anchored value is made once, at the anchor.

Manifests and `.updater.yml` come from the repository, which anyone able to open a pull request can
shape, so every load is bounded (`Limits`): the text's size, the nesting depth, and how many nodes
aliases would add if expanded (a 500-byte "billion laughs" file expands to billions). The tree is
built from the parser's events by a loop, not by ruamel's recursive composer, so a 10,000-deep file
is a `YamlTooComplex` error naming the limit, never a RecursionError or MemoryError.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.events import (AliasEvent, CollectionEndEvent, CollectionStartEvent, DocumentEndEvent, Event, MappingStartEvent,
                                ScalarEvent, SequenceStartEvent)

try:  # ruamel's optional C parser (package ruamel.yaml.clibz or ruamel.yaml.clib)
    from ruamel.yaml.cyaml import CBaseLoader
except ImportError:  # pragma: no cover - depends on the installation
    CBaseLoader = None  # type: ignore[misc,assignment]


class YamlSyntaxError(ValueError):
    """The text is not YAML (a Helm template, a broken file); the message has the position."""


class YamlTooComplex(YamlSyntaxError):
    """The text exceeds a `Limits` bound (size, depth, alias expansion); the message names it.

    A subclass of `YamlSyntaxError` so every caller that already turns unparseable YAML into a
    per-file warning or a one-line error handles it the same way."""


@dataclass(frozen=True)
class Limits:
    """Bounds on one YAML text; each default is far above any real manifest or config."""

    max_chars: int = 16 * 1024 * 1024  # the largest rendered chart we know of is ~3 MiB
    max_depth: int = 100  # Kubernetes objects nest ~20 deep; ruamel's own composer dies near 330
    max_alias_nodes: int = 100_000  # nodes aliases may add when expanded (merge keys, shared blocks)


LIMITS = Limits()


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


def parse_documents(text: str, *, pure: bool = False, limits: Limits = LIMITS) -> list[YamlNode]:
    """Every document of a (multi-document) YAML text; empty documents are left out.

    Uses ruamel's C parser when it is installed (about 25x faster), else (or with `pure`, or when the
    C parser rejects the text) the pure-Python one; both report the same positions. Raises
    `YamlSyntaxError` for text that is not YAML, `YamlTooComplex` for text beyond `limits`.
    """
    if len(text) > limits.max_chars:
        raise YamlTooComplex(f"{len(text)} characters, more than the limit of {limits.max_chars}")
    # The C parser skips a BOM without counting it; parse without it and shift every position back.
    offset = 1 if text.startswith("\ufeff") else 0
    if not pure and CBaseLoader is not None:
        try:
            return _Builder(text, offset, limits).documents(_c_events(text[offset:]))
        except YAMLError:
            pass  # e.g. a `%YAML 1.2` directive libyaml refuses: let the pure parser decide
    try:
        return _Builder(text, 0, limits).documents(iter(YAML(typ="rt", pure=True).parse(text)))
    except YAMLError as err:
        raise YamlSyntaxError(_describe(err)) from err


def _c_events(text: str) -> Iterator[Event]:
    loader = CBaseLoader(text)
    while loader.check_event():
        yield loader.get_event()


def _describe(err: YAMLError) -> str:
    """`line L, column C: problem` rather than ruamel's multi-line report."""
    mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
    problem = getattr(err, "problem", None) or getattr(err, "context", None) or type(err).__name__
    return f"line {mark.line + 1}, column {mark.column + 1}: {problem}" if mark else str(problem)


@dataclass(eq=False)
class _Open:
    """A collection whose end event has not come yet."""

    node: Mapping | Sequence
    anchor: str | None
    size: int = 1  # nodes in it so far, aliases counted expanded
    key: YamlNode | None = None  # a mapping's key waiting for its value


class _Builder:
    """Parser events → our nodes, positions shifted by `offset`, by a loop (no recursion).

    Does what ruamel's composer does (anchors, aliases to the anchor's node) while counting depth
    and the expanded size of every anchored node, so a violation stops the parse at once.
    """

    def __init__(self, text: str, offset: int, limits: Limits) -> None:
        self.text, self.offset, self.limits = text, offset, limits
        self.anchors: dict[str, tuple[YamlNode, int]] = {}  # anchor -> (node, expanded node count)
        self.alias_nodes = 0

    def documents(self, events: Iterator[Event]) -> list[YamlNode]:
        roots: list[YamlNode] = []
        stack: list[_Open] = []
        for event in events:
            if isinstance(event, DocumentEndEvent):
                self.anchors.clear()  # anchors do not cross documents
            elif isinstance(event, ScalarEvent):
                scalar = self._scalar(event)
                if event.anchor:
                    self.anchors[event.anchor] = (scalar, 1)
                self._add(stack, roots, scalar, 1)
            elif isinstance(event, AliasEvent):
                self._add(stack, roots, *self._alias(event))
            elif isinstance(event, CollectionStartEvent):
                if len(stack) >= self.limits.max_depth:
                    raise YamlTooComplex(f"line {event.start_mark.line + 1}: nested more than "
                                         f"{self.limits.max_depth} levels deep (the limit)")
                start = event.start_mark.index + self.offset
                opened = (Mapping(start=start, flow=bool(event.flow_style))
                          if isinstance(event, MappingStartEvent) else Sequence(start=start))
                stack.append(_Open(opened, event.anchor))
            elif isinstance(event, CollectionEndEvent):
                done = stack.pop()
                done.node.end = event.end_mark.index + self.offset
                if done.anchor:
                    self.anchors[done.anchor] = (done.node, done.size)
                self._add(stack, roots, done.node, done.size)
        return roots

    @staticmethod
    def _add(stack: list[_Open], roots: list[YamlNode], node: YamlNode, size: int) -> None:
        if not stack:
            if not (isinstance(node, Scalar) and node.value == "" and not node.style):  # an empty document
                roots.append(node)
            return
        top = stack[-1]
        top.size += size
        if isinstance(top.node, Sequence):
            top.node.items.append(node)
        elif top.key is None:
            top.key = node
        else:
            top.node.pairs.append((top.key, node))
            top.key = None

    def _alias(self, event: AliasEvent) -> tuple[YamlNode, int]:
        if event.anchor not in self.anchors:
            # also an alias to a collection still open: a recursive structure has no expansion
            raise YamlSyntaxError(f"line {event.start_mark.line + 1}, column {event.start_mark.column + 1}: "
                                  f"found undefined alias {event.anchor!r}")
        node, size = self.anchors[event.anchor]
        self.alias_nodes += size
        if self.alias_nodes > self.limits.max_alias_nodes:
            raise YamlTooComplex(f"line {event.start_mark.line + 1}: aliases expand to more than "
                                 f"{self.limits.max_alias_nodes} nodes (the limit; an alias bomb?)")
        return node, size

    def _scalar(self, event: ScalarEvent) -> Scalar:
        node_start, end = event.start_mark.index + self.offset, event.end_mark.index + self.offset
        style = event.style or ""
        value = str(event.value)
        spelled = source_spelling(value, style)
        start = end - len(spelled) if spelled is not None and self.text[end - len(spelled):end] == spelled else -1
        if start < node_start:
            start = -1
        return Scalar(value, start, end if start >= 0 else -1, event.end_mark.line + 1, style)


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
