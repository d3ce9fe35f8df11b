"""The built-in resource table (`sandbox/updater_sandbox/kube/data/builtin_types.json`, reduced from the real
server's discovery documents): every kind a default API server serves is there with its scope, plural,
short names and subresources; versions the real server removed answer 404, and real kubectl says so."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from urllib.error import HTTPError
from urllib.request import Request, urlopen

from updater.proc import Result
from updater_sandbox.kube.discovery import BUILTIN, REMOVED_VERSIONS, Discovery
from updater_sandbox.kube.server import KubeApiServer

Kubectl = Callable[..., Result]

HPA = """apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web, namespace: default}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 1
  maxReplicas: 3
  metrics:
  - type: Resource
    resource: {name: cpu, target: {type: Utilization, averageUtilization: 80}}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web, namespace: default}
spec: {minAvailable: 1, selector: {matchLabels: {app: web}}}
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: high}
value: 1000
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: fast}
provisioner: kubernetes.io/no-provisioner
"""


def test_the_table_holds_every_built_in_kind_of_a_default_server() -> None:
    kinds = {(t.api_version, t.kind) for t in BUILTIN}
    assert len(BUILTIN) == 61 and len(kinds) == 61
    for expected in [("autoscaling/v2", "HorizontalPodAutoscaler"), ("autoscaling/v1", "HorizontalPodAutoscaler"),
                     ("policy/v1", "PodDisruptionBudget"), ("networking.k8s.io/v1", "NetworkPolicy"),
                     ("v1", "LimitRange"), ("v1", "ResourceQuota"), ("scheduling.k8s.io/v1", "PriorityClass"),
                     ("discovery.k8s.io/v1", "EndpointSlice"), ("storage.k8s.io/v1", "StorageClass")]:
        assert expected in kinds
    by = {(t.api_version, t.kind): t for t in BUILTIN}
    hpa = by[("autoscaling/v2", "HorizontalPodAutoscaler")]
    assert (hpa.plural, hpa.namespaced, hpa.short_names, hpa.subresources) == (
        "horizontalpodautoscalers", True, ("hpa",), ("status",))
    assert by[("v1", "Namespace")].verbs == ("create", "delete", "get", "list", "patch", "update", "watch")
    assert by[("authorization.k8s.io/v1", "SubjectAccessReview")].verbs == ("create",)
    assert not any(t.version.startswith(("v1alpha", "v1beta", "v2beta")) for t in BUILTIN)  # off by default
    assert Discovery().group_versions()["autoscaling"] == ["v2", "v1"]  # the preferred version first


def test_scale_and_pod_subresources_are_discovered_with_their_kinds() -> None:
    apps = Discovery().resource_list_document("apps", "v1")
    assert apps is not None
    scale = next(r for r in apps["resources"] if r["name"] == "deployments/scale")
    assert (scale["group"], scale["version"], scale["kind"]) == ("autoscaling", "v1", "Scale")
    core = Discovery().resource_list_document("", "v1")
    assert core is not None
    eviction = next(r for r in core["resources"] if r["name"] == "pods/eviction")
    assert (eviction["group"], eviction["kind"], eviction["verbs"]) == ("policy", "Eviction", ["create"])


def test_kubectl_applies_hpa_pdb_and_cluster_kinds(kube_api: KubeApiServer, kubectl: Kubectl, tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text(HPA)
    out = kubectl("apply", "--server-side", "-f", str(tmp_path / "m.yaml"))
    assert out.returncode == 0, out.stderr.decode()
    hpa = kube_api.get("autoscaling/v2", "HorizontalPodAutoscaler", "web", "default")
    high = kube_api.get("scheduling.k8s.io/v1", "PriorityClass", "high")
    assert hpa is not None and hpa["spec"]["maxReplicas"] == 3
    assert high is not None and high["value"] == 1000
    listed = kubectl("get", "hpa,pdb", "-n", "default", "-o", "name")
    assert listed.out.split() == ["horizontalpodautoscaler.autoscaling/web", "poddisruptionbudget.policy/web"]


def test_removed_versions_are_refused_as_the_real_server_does(kube_api: KubeApiServer, kubectl: Kubectl,
                                                              tmp_path: Path) -> None:
    assert {"batch/v1beta1", "policy/v1beta1"} <= set(REMOVED_VERSIONS)
    for gv in ("batch/v1beta1", "policy/v1beta1"):
        try:
            urlopen(Request(f"{kube_api.url}/apis/{gv}", headers={"Authorization": f"Bearer {kube_api.token}"}))
        except HTTPError as err:
            assert err.code == 404
        else:
            raise AssertionError(f"/apis/{gv} answered")
    groups = json.loads(urlopen(Request(f"{kube_api.url}/apis/batch",
                                        headers={"Authorization": f"Bearer {kube_api.token}"})).read())
    assert [v["version"] for v in groups["versions"]] == ["v1"]
    (tmp_path / "cron.yaml").write_text("apiVersion: batch/v1beta1\nkind: CronJob\nmetadata: {name: old, namespace: default}\n"
                                        "spec: {schedule: '* * * * *', jobTemplate: {spec: {template: {spec: "
                                        "{containers: [{name: c, image: busybox}], restartPolicy: Never}}}}}\n")
    # --validate=false: kubectl's schema check falls back to /openapi/v2 for an unknown group/version,
    # which the emulator does not serve (a real server does); the mapping error below is the real one
    refused = kubectl("apply", "--server-side", "--validate=false", "-f", str(tmp_path / "cron.yaml"))
    assert refused.returncode != 0
    assert 'no matches for kind "CronJob" in version "batch/v1beta1"' in refused.stderr.decode()
