"""Planning one file: matching by normalised name, the tag/digest rules per kind, downgrades."""

from __future__ import annotations

import pytest

from updater.bump.planfile import FilePlan, plan_file
from updater.refs import ImageRef

D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64


def plan(text: str, *images: str, path: str = "f.yaml", allow_downgrade: bool = False) -> FilePlan:
    return plan_file(text, path=path, requests=[ImageRef.parse(i) for i in images], allow_downgrade=allow_downgrade)


def test_change_fields() -> None:
    result = plan("spec:\n  containers:\n  - image: acme/api:1.4.1\n", "docker.io/acme/api:1.4.2")
    (change,) = result.changes
    assert (change.path, change.line, change.kind, change.image, change.old, change.new) == (
        "f.yaml", 3, "container", "docker.io/acme/api", "acme/api:1.4.1", "acme/api:1.4.2")
    assert result.new_text == "spec:\n  containers:\n  - image: acme/api:1.4.2\n"


def test_unrelated_and_similar_names_are_untouched() -> None:
    text = "containers:\n- image: acme/api-gateway:1\n- image: ghcr.io/acme/api:1\n- image: '{{ .Values.x }}'\n"
    result = plan(text, "acme/api:2")
    assert result.changes == () and result.current == () and result.new_text is None


def test_already_current_is_reported_not_changed() -> None:
    result = plan(f"containers:\n- image: acme/api:2\n- image: acme/api:2@{D1}\n", "acme/api:2")
    assert result.changes == () and result.new_text is None
    assert [c.old for c in result.current] == ["acme/api:2", f"acme/api:2@{D1}"]


def test_downgrade_is_held_back_unless_allowed() -> None:
    text = "containers:\n- image: acme/api:1.10\n"
    refused = plan(text, "acme/api:1.9")
    assert refused.new_text is None and [c.new for c in refused.downgrades] == ["acme/api:1.9"]
    allowed = plan(text, "acme/api:1.9", allow_downgrade=True)
    assert allowed.new_text == 'containers:\n- image: acme/api:1.9\n' and allowed.downgrades == ()


def test_sha_tags_are_never_a_downgrade() -> None:
    result = plan("containers:\n- image: acme/api:2.0.0\n", "acme/api:3f2a1c9")
    assert [c.new for c in result.changes] == ["acme/api:3f2a1c9"]


def test_kustomize_effective_name_is_new_name() -> None:
    text = "images:\n- name: api\n  newName: ghcr.io/acme/api\n  newTag: '1'\n- name: ghcr.io/acme/api\n  newName: other/x\n"
    result = plan(text, "ghcr.io/acme/api:2", path="kustomization.yaml")
    assert result.new_text == "images:\n- name: api\n  newName: ghcr.io/acme/api\n  newTag: '2'\n- name: ghcr.io/acme/api\n  newName: other/x\n"
    assert [(c.old, c.new, c.line) for c in result.changes] == [("ghcr.io/acme/api:1", "ghcr.io/acme/api:2", 4)]


@pytest.mark.parametrize(
    ("entry", "request_", "expected"),
    [
        ("  newTag: '1'\n", "x:2", "  newTag: '2'\n"),
        (f"  newTag: '1'\n  digest: {D1}\n", "x:2", "  newTag: '2'\n"),
        (f"  digest: {D1}\n", f"x:2@{D2}", f"  digest: {D2}\n"),
        (f"  digest: {D1}\n", "x:2", "  newTag: \"2\"\n"),
        ("  newTag: '1'\n", f"x:2@{D2}", f"  newTag: '2'\n  digest: {D2}\n"),
        ("  newTag: '1'\n", f"x@{D2}", f"  digest: {D2}\n"),
    ],
)
def test_kustomize_tag_and_digest_rules(entry: str, request_: str, expected: str) -> None:
    result = plan(f"images:\n- name: x\n{entry}", request_, path="kustomization.yaml")
    assert result.new_text == f"images:\n- name: x\n{expected}"


def test_helm_digest_key_is_set_or_cleared() -> None:
    text = f"image:\n  repository: x\n  tag: '1'\n  digest: {D1}\n"
    assert plan(text, "x:2", path="values.yaml").new_text == "image:\n  repository: x\n  tag: '2'\n  digest: \"\"\n"
    pinned = plan(text, f"x:2@{D2}", path="values.yaml")
    assert pinned.new_text == f"image:\n  repository: x\n  tag: '2'\n  digest: {D2}\n"
    assert [c.new for c in pinned.changes] == [f"x:2@{D2}"]


def test_helm_registry_joins_the_name_and_tag_only_kinds_report_full_refs() -> None:
    text = "image:\n  registry: ghcr.io\n  repository: acme/api\n  tag: 1.4.1\n"
    (change,) = plan(text, "ghcr.io/acme/api:1.4.2", path="values.yaml").changes
    assert (change.kind, change.old, change.new, change.line) == ("helm", "ghcr.io/acme/api:1.4.1", "ghcr.io/acme/api:1.4.2", 4)


def test_helm_without_digest_key_writes_the_tag_and_warns() -> None:
    text = "image:\n  repository: x\n  tag: '1'\n"
    result = plan(text, f"x:2@{D2}", path="values.yaml")
    assert result.new_text == "image:\n  repository: x\n  tag: '2'\n"
    assert any("digest was not written" in w for w in result.warnings)
    digest_only = plan(text, f"x@{D2}", path="values.yaml")
    assert digest_only.new_text is None and any("left unchanged" in w for w in digest_only.warnings)


def test_marker_tag_gets_only_the_tag() -> None:
    text = "v: '1' # updater:tag=x\n"
    result = plan(text, f"x:2@{D2}")
    assert result.new_text == "v: '2' # updater:tag=x\n"
    assert [c.new for c in result.changes] == ["x:2"]


def test_two_images_in_one_file() -> None:
    text = "containers:\n- image: a:1\n- image: b:1\n- image: c:1\n"
    assert plan(text, "a:2", "b:3").new_text == "containers:\n- image: a:2\n- image: b:3\n- image: c:1\n"


def test_one_value_in_two_roles_that_need_different_text_is_left_with_a_warning() -> None:
    text = "a: {repository: x, tag: &t '1.0'}\nb: {repository: y, tag: *t}\n"
    result = plan(text, "x:2.0", "y:3.0", path="values.yaml")
    assert result.new_text is None and result.changes == ()
    assert any("two places that need different text" in w for w in result.warnings)


def test_a_value_found_by_two_rules_is_one_change() -> None:
    text = "image:\n  repository: x\n  tag: '1' # updater:tag=x\n"
    result = plan(text, "x:2", path="values.yaml")
    assert result.new_text == "image:\n  repository: x\n  tag: '2' # updater:tag=x\n"
    assert len(result.changes) == 1


def test_a_reference_without_tag_or_digest_is_a_placeholder_left_alone() -> None:
    text = "containers:\n- image: ghcr.io/acme/api  # tag set by the overlays\n- image: ghcr.io/acme/api:1\n"
    result = plan(text, "ghcr.io/acme/api:2")
    assert result.new_text == "containers:\n- image: ghcr.io/acme/api  # tag set by the overlays\n- image: ghcr.io/acme/api:2\n"
    assert len(result.changes) == 1 and result.current == ()
