"""validate_plan with the real kubectl: an edit that breaks a Kustomize tree that built is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.bump.conftest import DEPLOY, snapshot, write
from updater.bump.engine import plan_bump, validate_plan
from updater.errors import ValidationFailed
from updater.refs import ImageRef

API = ImageRef.parse("ghcr.io/acme/api:1.4.2")
# A guard patch: the overlay only builds while the base holds exactly this image.
GUARDED_OVERLAY = """
    resources:
    - ../../base
    patches:
    - target: {kind: Deployment, name: api}
      patch: |-
        - op: test
          path: /spec/template/spec/containers/0/image
          value: ghcr.io/acme/api:1.4.1
"""


def test_breaking_edit_is_refused_and_the_tree_is_untouched(tree: Path) -> None:
    write(tree, {"apps/api/overlays/prod/kustomization.yaml": GUARDED_OVERLAY})
    plan = plan_bump(tree, [API])
    before = snapshot(tree)
    with pytest.raises(ValidationFailed, match=r"apps/api/overlays/prod: .*test failed.*nothing was written"):
        validate_plan(tree, plan)
    assert snapshot(tree) == before
    assert not list(Path(tree).rglob("*.updater"))


def test_a_tree_broken_before_the_edit_does_not_block_it(tree: Path, caplog: pytest.LogCaptureFixture) -> None:
    write(tree, {"apps/api/overlays/prod/kustomization.yaml": "resources:\n- ../../base\n- missing.yaml\n"})
    plan = plan_bump(tree, [API])
    validate_plan(tree, plan)
    assert "apps/api/overlays/prod: kustomize build fails without the edit too" in caplog.text


def test_only_trees_that_include_a_touched_file_are_built(tree: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO")
    write(tree, {
        "apps/other/kustomization.yaml": "resources:\n- cm.yaml\n",
        "apps/other/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
        "apps/api/overlays/prod/kustomization.yaml": "resources:\n- ../../base\nnamePrefix: prod-\n",
        "loose/deploy.yaml": DEPLOY,  # no kustomization includes it
    })
    plan = plan_bump(tree, [API])
    assert set(plan.files) == {"apps/api/base/deployment.yaml", "loose/deploy.yaml"}
    validate_plan(tree, plan)
    # The prod overlay includes the base: one build covers both; apps/other is not touched.
    assert "building 1 Kustomize tree(s)" in caplog.text


def test_an_edited_kustomization_is_validated_itself(tree: Path) -> None:
    write(tree, {
        "apps/api/overlays/prod/kustomization.yaml": "resources:\n- ../../base\nimages:\n- name: ghcr.io/acme/api\n  newTag: 1.4.1\n"
                                                     "patches:\n- target: {kind: Deployment}\n  patch: |-\n    - op: test\n"
                                                     "      path: /spec/template/spec/containers/0/image\n"
                                                     "      value: ghcr.io/acme/api:1.4.1\n",
    })
    plan = plan_bump(tree, [API], paths=["apps/api/overlays/**"])
    assert plan.files == ("apps/api/overlays/prod/kustomization.yaml",)
    # Patches run before the images transformer, so this guard still passes: the edit is valid.
    validate_plan(tree, plan)


def test_every_outermost_tree_is_built_and_each_break_is_named(tree: Path) -> None:
    guard = GUARDED_OVERLAY
    write(tree, {
        "apps/api/overlays/prod/kustomization.yaml": guard,
        "apps/api/overlays/dev/kustomization.yaml": guard,
        "apps/api/overlays/ok/kustomization.yaml": "resources:\n- ../../base\n",
    })
    with pytest.raises(ValidationFailed, match=r"build of apps/api/overlays/dev: .* \(and 1 more\)"):
        validate_plan(tree, plan_bump(tree, [API]))


def test_files_named_by_path_fields_are_copied_for_the_build(tree: Path, caplog: pytest.LogCaptureFixture) -> None:
    write(tree, {
        "apps/api/overlays/prod/kustomization.yaml": (
            "resources:\n- ../../base\nconfigMapGenerator:\n- name: cfg\n  files: [config/app.properties]\n"),
        "apps/api/overlays/prod/config/app.properties": "a=b\n",
    })
    validate_plan(tree, plan_bump(tree, [API]))
    assert "fails without the edit" not in caplog.text  # the build in the copy found the file


def test_trees_with_distinct_objects_are_built_in_one_process(tree: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG", logger="updater")
    write(tree, {f"apps/api/overlays/{env}/kustomization.yaml": f"resources:\n- ../../base\nnamePrefix: {env}-\n"
                 for env in ("dev", "prod")})
    validate_plan(tree, plan_bump(tree, [API]))
    assert "the 2 trees build together" in caplog.text


def test_a_break_hidden_among_colliding_trees_is_still_found(tree: Path) -> None:
    write(tree, {
        "apps/api/overlays/dev/kustomization.yaml": "resources:\n- ../../base\nnamePrefix: dev-\n",
        "apps/api/overlays/prod/kustomization.yaml": GUARDED_OVERLAY,
    })
    with pytest.raises(ValidationFailed, match=r"build of apps/api/overlays/prod: testing value"):
        validate_plan(tree, plan_bump(tree, [API]))
