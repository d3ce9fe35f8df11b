"""An app's desired state for one commit: rendered, scoped to namespaces, and marked as the app's.

Kept per app between passes: the same commit is prepared once; a new commit re-parses only the files
it changed (`render.ParseCache`) and re-marks only the objects that came from them. Scoping needs to
know which kinds are namespaced, asked through the `resolve` callable (the client's discovery).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from updater.agent.client import Resource
from updater.agent.objects import Obj, ObjectKey, group_of, is_crd, key_of, mark
from updater.agent.render import ParseCache, RenderError, render_tree
from updater.agent.sops import NO_IDENTITIES, Identities

Resolver = Callable[[str, str], Resource | None]


@dataclass(frozen=True)
class Desired:
    commit: str
    objects: tuple[Obj, ...]  # marked manifests, namespaces filled in
    keys: tuple[ObjectKey, ...]  # of `objects`, in the same order
    notes: tuple[str, ...]

    def kinds(self) -> dict[tuple[str, str], str]:
        """(group, kind) -> an apiVersion to list it with."""
        found: dict[tuple[str, str], str] = {}
        for obj in self.objects:
            found.setdefault((group_of(obj["apiVersion"]), obj["kind"]), obj["apiVersion"])
        return found


class DesiredCache:
    def __init__(self, *, app: str, path: str, default_namespace: str, resolve: Resolver,
                 identities: Identities = NO_IDENTITIES, kustomize_remote: bool = False) -> None:
        self.app = app
        self.kustomize_remote = kustomize_remote
        self.path = path
        self.default_namespace = default_namespace
        self.resolve = resolve
        self.current: Desired | None = None
        self._parsed = ParseCache(identities)  # sops files decrypt with the operator's age identities
        self._marked: dict[int, tuple[Obj, Obj]] = {}  # id(parsed object) -> (it, its marked copy)

    def prepare(self, commit: str, tree: Path) -> Desired:
        """The desired state at `commit` (checked out at `tree`); raises `RenderError`, keeping nothing."""
        if self.current is not None and self.current.commit == commit:
            return self.current
        rendered = render_tree(tree, self.path, cache=self._parsed, allow_remote=self.kustomize_remote)
        crd_scopes = {(obj["spec"]["group"], obj["spec"]["names"]["kind"]): obj["spec"].get("scope") == "Namespaced"
                      for obj in rendered.objects if is_crd(key_of(obj)) and isinstance(obj.get("spec"), dict)}
        marked: dict[int, tuple[Obj, Obj]] = {}
        objects = []
        for obj in rendered.objects:
            hit = self._marked.get(id(obj))
            done = hit[1] if hit is not None and hit[0] is obj else mark(self._scope(obj, crd_scopes), app=self.app)
            marked[id(obj)] = (obj, done)
            objects.append(done)
        self._marked = marked
        self.current = Desired(commit, tuple(objects), tuple(key_of(o) for o in objects), rendered.notes)
        return self.current

    def _scope(self, obj: Obj, crd_scopes: dict[tuple[str, str], bool]) -> Obj:
        """Namespaced objects get the default namespace when they name none; cluster-scoped lose it."""
        resource = self.resolve(obj["apiVersion"], obj["kind"])
        namespaced = resource.namespaced if resource else crd_scopes.get((group_of(obj["apiVersion"]), obj["kind"]))
        if namespaced is None:
            raise RenderError(f"{key_of(obj)}: the API has no {obj['kind']} in {obj['apiVersion']} and no "
                              "CustomResourceDefinition in the render declares it")
        meta = dict(obj["metadata"])
        if namespaced:
            if not meta.get("namespace"):  # absent, null or "": the target namespace, before any check
                meta["namespace"] = self.default_namespace
        else:
            meta.pop("namespace", None)
        return {**obj, "metadata": meta}
