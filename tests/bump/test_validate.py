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
    assert "fails before the edit too" in caplog.text


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
    assert "building 2 kustomization(s)" in caplog.text  # base and prod overlay, not apps/other


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
