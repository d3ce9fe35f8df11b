"""What a kustomization file refers to on disk. Pure: its text in, relative paths out.

Used to tell which Kustomize trees include a file the bump edits (those trees are re-built to
validate the edit). Remote references (URLs, `github.com/...?ref=`) are left out: they are not part
of the checkout.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from updater.manifests.yaml import Mapping, Scalar, Sequence, YamlNode, YamlSyntaxError, parse_documents

# Fields whose value is a list of paths (files or directories).
_PATH_LISTS = (
    "resources", "bases", "components", "crds", "configurations", "generators", "transformers",
    "validators", "patchesStrategicMerge",
)
# Fields whose value is a list of mappings with a `path`.
_PATH_ITEMS = ("patches", "patchesJson6902", "replacements")
_GENERATORS = ("configMapGenerator", "secretGenerator")
_REMOTE = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|git@|github\.com/|gitlab\.com/|bitbucket\.org/)|\?ref=|//")


def local_references(text: str) -> list[str]:
    """Relative paths a kustomization names (as written); [] when the text is not YAML."""
    return [path for path in _references(text) if not _REMOTE.search(path)]


def remote_references(text: str) -> list[str]:
    """What a kustomization names that kustomize would fetch over the network (URLs, git repos)."""
    return [path for path in _references(text) if _REMOTE.search(path)]


def _references(text: str) -> list[str]:
    try:
        documents = parse_documents(text)
    except YamlSyntaxError:
        return []
    root = documents[0] if documents else None
    if not isinstance(root, Mapping):
        return []
    found: list[str] = []
    for key in _PATH_LISTS:
        found.extend(_strings(root.get(key)))
    for key in _PATH_ITEMS:
        found.extend(_strings(_field(item, "path") for item in _items(root.get(key))))
    for key in _GENERATORS:
        for item in _items(root.get(key)):
            files = [f.rpartition("=")[2] for f in _strings(_field(item, "files"))]
            found.extend([*files, *_strings(_field(item, "envs")), *_strings(_field(item, "env"))])
    openapi = root.get("openapi")
    found.extend(_strings(_field(openapi, "path") if isinstance(openapi, Mapping) else None))
    return [path for path in found if path and "\n" not in path]


def _items(node: YamlNode | None) -> list[YamlNode]:
    return node.items if isinstance(node, Sequence) else []


def _field(node: YamlNode | None, key: str) -> YamlNode | None:
    return node.get(key) if isinstance(node, Mapping) else None


def _strings(nodes: object) -> list[str]:
    if isinstance(nodes, Sequence):
        nodes = nodes.items
    if isinstance(nodes, (Scalar, type(None))):
        nodes = [nodes]
    if not isinstance(nodes, Iterable):
        return []
    return [n.value for n in nodes if isinstance(n, Scalar)]
