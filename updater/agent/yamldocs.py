"""The agent's one door to a YAML library: load multi-document manifests safely, dump objects for diffs.

PyYAML's C safe loader, not ruamel.yaml: the agent never edits YAML in place (no round-trip needed)
and re-renders whole trees on every new commit, where ruamel's pure-Python loader took 2.4 s for
2,000 objects against 0.16 s here. YAML 1.1 scalars (`yes`, `on`) load as booleans, as kubectl's
loader does. No I/O here.

Every load is bounded, because the text comes from the manifest repository (untrusted): at most
`MAX_BYTES` of text, `MAX_DEPTH` levels of nesting, `MAX_ALIASES` alias uses and `MAX_EXPANDED`
units of expanded size (one per node plus one per scalar character, aliases counted as copies).
A violation raises `YAMLLimitExceeded` (a `YAMLError`) before anything is built. The checks run on
libyaml's event stream, before PyYAML's constructor (which recurses in Python: a 990-deep
document was a RecursionError) sees anything, and are skipped when a cheap look at the text
proves them unnecessary (no alias indicator, and a nesting bound under the limit).
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml import YAMLError

__all__ = ["MAX_ALIASES", "MAX_BYTES", "MAX_DEPTH", "MAX_EXPANDED", "YAMLError", "YAMLLimitExceeded",
           "check_limits", "dump", "load", "load_all"]

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

MAX_BYTES = 16 * 1024 * 1024  # a Kubernetes object is at most 1.5 MiB (etcd); a file of thousands fits
MAX_DEPTH = 256  # CRD schemas nest ~60 deep; far below Python's recursion limit (about 1,000 frames)
MAX_ALIASES = 10_000  # anchors are rare in manifests; a bomb needs few aliases, the size limit catches it
MAX_EXPANDED = 64 * 1024 * 1024  # ~4x MAX_BYTES: what aliases may multiply a document into

# An alias token starts with `*` after whitespace, a flow indicator or the start of a line; a text
# without one has no alias (a false hit only costs the full check)
_ALIAS_HINT = re.compile(r"(?:^|[\s\[{,])\*", re.MULTILINE)
_BLOCK_PREFIX = re.compile(r"^[ \-?:]*", re.MULTILINE)
# a document marker cannot sit inside a flow collection or a quoted scalar: brackets count per document
_DOCUMENT_MARKER = re.compile(r"^(?:---|\.\.\.)", re.MULTILINE)


class YAMLLimitExceeded(YAMLError):
    """The text is over one of the limits above; the message says which and where."""


def _needs_check(text: str) -> bool:
    """False only when the text provably stays within the limits: no alias, and nesting at most
    2 levels per column of the deepest block prefix (indentation, `- `, `? `, `: `) plus one per
    flow bracket of the document with the most."""
    if _ALIAS_HINT.search(text):
        return True
    prefix = max(map(len, _BLOCK_PREFIX.findall(text)), default=0)
    brackets = max(part.count("[") + part.count("{") for part in _DOCUMENT_MARKER.split(text))
    return 2 * (prefix + 2) + brackets > MAX_DEPTH


def check_limits(text: str | bytes) -> None:
    """Raise `YAMLLimitExceeded` when `text` is over a limit (see the module docstring)."""
    if len(text) > MAX_BYTES:
        raise YAMLLimitExceeded(f"{len(text)} bytes: over the limit of {MAX_BYTES} bytes per file")
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    if not _needs_check(text):
        return
    loader = _Loader(text)
    try:
        _scan(loader)
    finally:
        loader.dispose()


def _scan(loader: Any) -> None:
    open_sizes: list[list[Any]] = []  # [expanded size so far, anchor] per open collection
    anchors: dict[str, int] = {}
    aliases = expanded = 0
    while loader.check_event():
        event = loader.get_event()
        line = event.start_mark.line + 1
        size = 0
        if isinstance(event, yaml.DocumentStartEvent):
            anchors.clear()  # anchors are per document
        elif isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            open_sizes.append([1, event.anchor])
            expanded += 1
            if len(open_sizes) > MAX_DEPTH:
                raise YAMLLimitExceeded(f"line {line}: nested over {MAX_DEPTH} levels deep")
            continue
        elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            size, anchor = open_sizes.pop()
            if anchor:
                anchors[anchor] = size
        elif isinstance(event, yaml.ScalarEvent):
            size = 1 + len(event.value)
            expanded += size
            if event.anchor:
                anchors[event.anchor] = size
        elif isinstance(event, yaml.AliasEvent):
            aliases += 1
            size = anchors.get(event.anchor or "", 0)
            expanded += size
            if aliases > MAX_ALIASES:
                raise YAMLLimitExceeded(f"line {line}: over {MAX_ALIASES} aliases")
            if expanded > MAX_EXPANDED:
                raise YAMLLimitExceeded(f"line {line}: aliases expand it past {MAX_EXPANDED} nodes and "
                                        "characters (an alias bomb?)")
        if open_sizes:
            open_sizes[-1][0] += size


def load_all(text: str | bytes) -> list[Any]:
    """Every document in `text` (empty documents come back as None). Raises `YAMLError`."""
    check_limits(text)
    return list(yaml.load_all(text, Loader=_Loader))


def load(text: str | bytes) -> Any:
    """The single document in `text` (a config file). Raises `YAMLError`."""
    check_limits(text)
    return yaml.load(text, Loader=_Loader)


def dump(value: Any) -> str:
    """Block-style YAML with keys sorted, so two dumps of equal values are equal text."""
    return yaml.dump(value, Dumper=_Dumper, default_flow_style=False, sort_keys=True, width=4096,
                     allow_unicode=True)
