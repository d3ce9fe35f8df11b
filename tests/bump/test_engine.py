"""plan_bump / apply_plan on real directories: walking, screening, scoping, run-wide rules, atomic writes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.bump.conftest import snapshot, write
from updater.bump.engine import apply_plan, plan_bump, screen_token
from updater.bump.model import BumpPlan
from updater.errors import BadInput, NoReferenceFound, PolicyRefused, UpdaterError
from updater.refs import ImageRef

API = ImageRef.parse("ghcr.io/acme/api:1.4.2")


def test_plan_is_read_only_and_apply_writes_exactly_the_plan(tree: Path) -> None:
    before = snapshot(tree)
    plan = plan_bump(tree, [API])
    assert snapshot(tree) == before
    assert plan.files == ("apps/api/base/deployment.yaml",)
    assert plan.old_contents["apps/api/base/deployment.yaml"] == before["apps/api/base/deployment.yaml"]
    apply_plan(tree, plan)
    after = snapshot(tree)
    assert after["apps/api/base/deployment.yaml"] == before["apps/api/base/deployment.yaml"].replace(b"1.4.1", b"1.4.2")
    assert {k: v for k, v in after.items() if k not in plan.files} == {k: v for k, v in before.items() if k not in plan.files}


def test_git_dir_non_yaml_and_symlinks_are_skipped(tree: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text("containers:\n- image: ghcr.io/acme/api:1.0.0\n")
    write(tree, {
        ".git/config.yaml": "containers:\n- image: ghcr.io/acme/api:1.0.0\n",
        "notes.txt": "containers:\n- image: ghcr.io/acme/api:1.0.0\n",
        "Kustomization": "images:\n- name: ghcr.io/acme/api\n  newTag: 1.0.0\n",
    })
    (tree / "linked-out.yaml").symlink_to(outside)
    (tree / "linked-dir").symlink_to(tmp_path, target_is_directory=True)
    (tree / "linked-in.yaml").symlink_to(tree / "apps/api/base/deployment.yaml")
    plan = plan_bump(tree, [API])
    assert plan.files == ("Kustomization", "apps/api/base/deployment.yaml")
    assert any(w.startswith("linked-out.yaml: skipped, a symlink") for w in plan.warnings)
    assert any(w.startswith("linked-dir: skipped, a symlink") for w in plan.warnings)
    apply_plan(tree, plan)
    assert b"1.0.0" in outside.read_bytes()
    assert (tree / "linked-in.yaml").is_symlink()


@pytest.mark.parametrize(
    ("globs", "files"),
    [
        (["apps/api/**"], ["apps/api/base/deployment.yaml"]),
        (["apps/api"], ["apps/api/base/deployment.yaml"]),
        (["**/deployment.yaml"], ["apps/api/base/deployment.yaml"]),
        (["apps/*/base/*.yaml"], ["apps/api/base/deployment.yaml"]),
        (["apps/web/**", "other/**"], []),
    ],
)
def test_path_globs(tree: Path, globs: list[str], files: list[str]) -> None:
    plan = plan_bump(tree, [API], paths=globs, allow_missing=True)
    assert list(plan.files) == files


def test_star_stays_in_one_segment(tree: Path) -> None:
    assert plan_bump(tree, [API], paths=["apps/*.yaml"], allow_missing=True).files == ()


@pytest.mark.parametrize("glob", ["/abs/**", "../x/**", "a/../../b", ""])
def test_bad_globs_are_bad_input(tree: Path, glob: str) -> None:
    with pytest.raises(BadInput, match="--path"):
        plan_bump(tree, [API], paths=[glob])


def test_no_reference_found_names_the_image_and_scope(tree: Path) -> None:
    with pytest.raises(NoReferenceFound, match=r"ghcr.io/acme/api found under --path apps/web/\*\*"):
        plan_bump(tree, [API], paths=["apps/web/**"])
    plan = plan_bump(tree, [API, ImageRef.parse("ghcr.io/acme/none:1")], allow_missing=True)
    assert plan.files == ("apps/api/base/deployment.yaml",)
    assert any("no reference to ghcr.io/acme/none" in w for w in plan.warnings)


def test_one_missing_image_fails_the_whole_run(tree: Path) -> None:
    with pytest.raises(NoReferenceFound, match="ghcr.io/acme/none"):
        plan_bump(tree, [API, ImageRef.parse("ghcr.io/acme/none:1")])


def test_downgrade_anywhere_refuses_everything(tree: Path) -> None:
    write(tree, {"apps/api/prod.yaml": "containers:\n- image: ghcr.io/acme/api:1.5.0\n"})
    with pytest.raises(PolicyRefused, match=r"refusing to downgrade ghcr.io/acme/api:1.5.0 to ghcr.io/acme/api:1.4.2 in apps/api/prod.yaml:2"):
        plan_bump(tree, [API])
    plan = plan_bump(tree, [API], allow_downgrade=True)
    assert plan.files == ("apps/api/base/deployment.yaml", "apps/api/prod.yaml")


def test_already_current_is_not_a_change(tree: Path) -> None:
    plan = plan_bump(tree, [ImageRef.parse("ghcr.io/acme/api:1.4.1")])
    assert not plan.changes and not plan.new_contents
    assert [c.path for c in plan.current] == ["apps/api/base/deployment.yaml"]


def test_bad_requests(tree: Path) -> None:
    with pytest.raises(BadInput, match="given twice"):
        plan_bump(tree, [API, ImageRef.parse("ghcr.io/acme/api:1.4.3")])
    with pytest.raises(BadInput, match="no tag or digest"):
        plan_bump(tree, [ImageRef("ghcr.io/acme/api")])
    with pytest.raises(BadInput, match="--dir"):
        plan_bump(tree / "missing", [API])


def test_unreadable_yaml_is_a_warning(tree: Path) -> None:
    write(tree, {
        "bad.yaml": "containers: [ghcr.io/acme/api:1\n",
        "latin1.yaml": b"# caf\xe9 ghcr.io/acme/api:1\n",
    })
    plan = plan_bump(tree, [API])
    assert any(w.startswith("bad.yaml: skipped, not valid YAML") for w in plan.warnings)
    assert any(w.startswith("latin1.yaml: skipped, not UTF-8") for w in plan.warnings)
    assert plan.files == ("apps/api/base/deployment.yaml",)


def test_apply_keeps_mode_and_leaves_no_temp_files(tree: Path) -> None:
    target = tree / "apps/api/base/deployment.yaml"
    os.chmod(target, 0o640)
    apply_plan(tree, plan_bump(tree, [API]))
    assert target.stat().st_mode & 0o777 == 0o640
    assert not [p for p in tree.rglob("*") if p.name.endswith(".updater")]


def test_apply_writes_nothing_when_any_file_changed_since_the_plan(tree: Path) -> None:
    write(tree, {"z.yaml": "containers:\n- image: ghcr.io/acme/api:1.0\n"})
    plan = plan_bump(tree, [API])
    assert plan.files == ("apps/api/base/deployment.yaml", "z.yaml")
    (tree / "z.yaml").write_text("containers:\n- image: ghcr.io/acme/api:1.1\n")
    before = snapshot(tree)
    with pytest.raises(UpdaterError, match="z.yaml changed while updater was planning"):
        apply_plan(tree, plan)
    assert snapshot(tree) == before


def test_apply_refuses_paths_outside_the_tree(tree: Path) -> None:
    plan = BumpPlan(new_contents={"../x.yaml": b"x"}, old_contents={"../x.yaml": b""})
    with pytest.raises(BadInput, match="outside"):
        apply_plan(tree, plan)


def test_screen_token_is_in_every_spelling() -> None:
    assert screen_token(ImageRef.parse("ghcr.io/acme/api:1")) == b"acme/api"
    assert screen_token(ImageRef.parse("nginx:1")) == b"nginx"
    assert screen_token(ImageRef.parse("docker.io/acme/api:1")) == b"acme/api"
    assert screen_token(ImageRef.parse("localhost:5000/api:1")) == b"api"


def test_marker_files_pass_the_screen_through_the_marker_name(tree: Path) -> None:
    write(tree, {"cm.yaml": "data:\n  TAG: '1.4.1' # updater:tag=ghcr.io/acme/api\n",
                 "other.yaml": "data:\n  TAG: '1.4.1' # updater:tag=ghcr.io/acme/web\n"})
    plan = plan_bump(tree, [API], paths=["cm.yaml"])
    assert plan.new_contents["cm.yaml"] == b"data:\n  TAG: '1.4.2' # updater:tag=ghcr.io/acme/api\n"


@pytest.mark.parametrize("size", [0, 1, 65535, 65536, 65537, 200_000])
def test_read_file_reads_whole_files_of_any_size(tmp_path: Path, size: int) -> None:
    from updater.bump.tree import read_file

    data = os.urandom(size)
    (tmp_path / "f.yaml").write_bytes(data)
    assert read_file(str(tmp_path / "f.yaml")) == data


def test_path_filter_prunes_only_directories_no_glob_can_reach() -> None:
    from updater.bump.tree import path_filter

    scoped = path_filter(["apps/api/overlays/*/kustomization.yaml", ".github/**"])
    assert [d for d in ["apps", "apps/api", "apps/api/overlays", "apps/api/overlays/prod", ".github/x"]
            if scoped.worth_entering(d)] == ["apps", "apps/api", "apps/api/overlays", "apps/api/overlays/prod", ".github/x"]
    assert not scoped.worth_entering("apps/web") and not scoped.worth_entering("clusters")
    assert path_filter(["**/x.yaml"]).worth_entering("anything") and path_filter([]).worth_entering("anything")
    assert scoped("apps/api/overlays/prod/kustomization.yaml") and not scoped("apps/api/base/kustomization.yaml")


def test_scoped_walk_does_not_enter_directories_outside_the_scope(tree: Path, tmp_path: Path) -> None:
    (tree / "apps/web/out.yaml").symlink_to(tmp_path)  # reported only by a walk that enters apps/web
    assert any("apps/web/out.yaml" in w for w in plan_bump(tree, [API]).warnings)
    plan = plan_bump(tree, [API], paths=["apps/api/**"])
    assert plan.files == ("apps/api/base/deployment.yaml",) and plan.warnings == ()


def test_a_failed_rename_midway_puts_back_the_files_already_replaced(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The disk fills up between the first and the second rename: a real OSError from os.replace,
    # injected at the OS boundary (no other way to fail a rename deterministically as root).
    write(tree, {"z.yaml": "containers:\n- image: ghcr.io/acme/api:1.0\n"})
    plan = plan_bump(tree, [API])
    assert plan.files == ("apps/api/base/deployment.yaml", "z.yaml")
    before = snapshot(tree)
    real_replace, calls = os.replace, []

    def replace(src, dst):  # type: ignore[no-untyped-def]
        calls.append(dst)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return real_replace(src, dst)

    monkeypatch.setattr("updater.bump.engine.os.replace", replace)
    with pytest.raises(OSError, match="No space left"):
        apply_plan(tree, plan)
    assert len(calls) == 3  # first file replaced, second failed, first put back
    assert snapshot(tree) == before  # every file as it was, no temp file left behind
