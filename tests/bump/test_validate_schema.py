"""Schema validation of what a bump changes, with the real kustomize and kubernetes-validate's schemas:
an edit that makes an object invalid is refused, an object invalid before never blocks, custom
resources are skipped and counted, and an unknown --kube-version is bad input."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.bump.conftest import DEPLOY, snapshot, write
from updater.bump.engine import plan_bump, validate_plan
from updater.bump.kube_schema import available_versions, resolve_version, violations
from updater.bump.model import BumpPlan
from updater.errors import BadInput, ValidationFailed
from updater.options.request import build_request
from updater.refs import ImageRef

API = ImageRef.parse("ghcr.io/acme/api:1.4.2")
KUBE = "1.37"
# A marker one line too high: it marks `replicas`, so the bump writes the tag there ("1.4.2", a string).
MISPLACED_MARKER = DEPLOY.replace("spec:\n      selector:", "spec:\n      replicas: 1  # updater:tag=ghcr.io/acme/api\n"
                                  "      selector:", 1)
ROLLOUT = """
    apiVersion: argoproj.io/v1alpha1
    kind: Rollout
    metadata: {name: api}
    spec:
      template:
        spec:
          containers:
          - name: api
            image: ghcr.io/acme/api:1.4.1
"""


def test_a_valid_bump_passes_and_says_what_it_checked(tree: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO")
    write(tree, {"loose/deploy.yaml": DEPLOY})
    validate_plan(tree, plan_bump(tree, [API]), kube_version=KUBE)
    # the base's Deployment through its kustomize build, and the loose file on its own
    assert "schema: 2 object(s) checked against Kubernetes 1.37" in caplog.text


@pytest.mark.parametrize("rel", ["apps/api/base/deployment.yaml", "loose/deploy.yaml"])
def test_an_edit_that_makes_an_object_invalid_is_refused_naming_file_object_and_path(tree: Path, rel: str) -> None:
    write(tree, {rel: MISPLACED_MARKER})
    plan = plan_bump(tree, [API])
    before = snapshot(tree)
    with pytest.raises(ValidationFailed) as caught:
        validate_plan(tree, plan, kube_version=KUBE)
    assert str(caught.value).startswith(
        f"the edit breaks the Kubernetes 1.37 schema: {rel}: Deployment api: spec.replicas: "
        "'1.4.2' is not of type 'integer', 'null'; nothing was written")
    assert "\n" not in str(caught.value)
    assert snapshot(tree) == before
    validate_plan(tree, plan, kube_version=None)  # the same edit builds: only the schema refuses it


def test_an_image_that_becomes_a_mapping_is_refused(tree: Path) -> None:
    rel = "apps/api/base/deployment.yaml"
    old = (tree / rel).read_bytes()
    new = old.replace(b"image: ghcr.io/acme/api:1.4.1", b"image: {name: ghcr.io/acme/api, tag: 1.4.2}")
    with pytest.raises(ValidationFailed, match=r"deployment.yaml: Deployment api: "
                                               r"spec.template.spec.containers\[0\].image: .* is not of type 'string'"):
        validate_plan(tree, BumpPlan(new_contents={rel: new}, old_contents={rel: old}), kube_version=KUBE)


def test_an_object_invalid_before_the_bump_does_not_block_it(tree: Path, caplog: pytest.LogCaptureFixture) -> None:
    # annotations must be strings: `build: 41` is already a violation, the bump adds none
    invalid = DEPLOY.replace("  name: api\n", "  name: api\n      annotations: {build: 41}\n", 1)
    write(tree, {"apps/api/base/deployment.yaml": invalid, "loose/deploy.yaml": invalid})
    validate_plan(tree, plan_bump(tree, [API]), kube_version=KUBE)
    assert "violation(s) were there before the edit" in caplog.text
    assert "metadata.annotations.build: 41 is not of type 'string'" in caplog.text


def test_a_new_violation_on_an_object_already_invalid_is_still_refused(tree: Path) -> None:
    invalid = MISPLACED_MARKER.replace("  name: api\n", "  name: api\n      annotations: {build: 41}\n", 1)
    write(tree, {"loose/deploy.yaml": invalid})
    with pytest.raises(ValidationFailed, match=r"loose/deploy.yaml: Deployment api: spec.replicas: "):
        validate_plan(tree, plan_bump(tree, [API], paths=["loose/**"]), kube_version=KUBE)


def test_custom_resources_are_skipped_and_counted(tree: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO")
    # no schema for argoproj.io Rollout: its fields are never judged, even ones no Kubernetes kind has
    write(tree, {"apps/api/base/rollout.yaml": ROLLOUT + "      strategy: {canary: {steps: 3}}\n",
                 "apps/api/base/kustomization.yaml": "resources:\n- deployment.yaml\n- rollout.yaml\n",
                 "crds/rollout.yaml": ROLLOUT})
    plan = plan_bump(tree, [API])
    assert set(plan.files) >= {"apps/api/base/rollout.yaml", "crds/rollout.yaml"}
    validate_plan(tree, plan, kube_version=KUBE)
    assert ("schema: 1 object(s) checked against Kubernetes 1.37; 2 object(s) of kinds without a bundled "
            "schema skipped (argoproj.io/v1alpha1 Rollout)") in caplog.text


def test_kind_list_items_are_checked_one_by_one(tree: Path) -> None:
    items = "apiVersion: v1\nkind: List\nitems:\n- " + textwrap.dedent(MISPLACED_MARKER).strip().replace("\n", "\n  ")
    write(tree, {"loose/list.yaml": items})
    with pytest.raises(ValidationFailed, match=r"loose/list.yaml: Deployment api: spec.replicas: "):
        validate_plan(tree, plan_bump(tree, [API], paths=["loose/**"]), kube_version=KUBE)


def test_unknown_kube_version_is_bad_input_listing_the_bundled_ones() -> None:
    bundled = available_versions()
    assert "1.37" in bundled and "1.25" in bundled
    with pytest.raises(BadInput) as caught:
        resolve_version("1.20")
    assert str(caught.value).startswith("--kube-version 1.20: no Kubernetes schemas bundled for it; give one of 1.25, ")
    assert ", 1.37" in str(caught.value)
    with pytest.raises(BadInput, match="--kube-version latest"):
        resolve_version("latest")
    assert resolve_version(None) == bundled[-1]
    assert resolve_version("v1.30.4") == "1.30"
    assert resolve_version("1.30", enabled=False) is None


def test_a_kind_is_never_a_path_into_the_package() -> None:
    assert violations({"apiVersion": "v1", "kind": "../../kubernetes-json-schema/v1.37.0-local/pod"}, KUBE) is None
    assert violations({"apiVersion": "../v1", "kind": "Pod"}, KUBE) is None
    assert violations({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}}, KUBE) == []


def test_kube_version_comes_from_the_target_in_updater_yml_and_must_be_quoted(tmp_path: Path) -> None:
    config = "version: 1\napps:\n  api:\n    environments:\n      prod:\n        kube-version: {v}\n"
    (tmp_path / ".updater.yml").write_text(config.format(v='"1.30"'))
    parsed = {"target": "api/prod", "dir": str(tmp_path), "image": ["ghcr.io/acme/api:1.4.2"]}
    assert build_request(parsed, {}).kube_version == "1.30"
    assert build_request({**parsed, "kube_version": "1.31"}, {}).kube_version == "1.31"  # the flag wins
    (tmp_path / ".updater.yml").write_text(config.format(v="1.30"))  # YAML reads 1.30 as the number 1.3
    with pytest.raises(BadInput, match=r"\.updater\.yml:6: apps\.api\.environments\.prod\.kube-version: 1\.3 is not "
                                       r"of type 'string'"):
        build_request(parsed, {})
