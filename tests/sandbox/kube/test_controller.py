"""The stand-in workload controller: rollout status, and the knob that makes rollouts hang or fail."""

from __future__ import annotations

from collections.abc import Callable

from updater.proc import Result
from updater_sandbox.kube.controller import RolloutMode, deployment_status, job_status
from updater_sandbox.kube.server import KubeApiServer


def deploy(name: str = "web", image: str = "a:1", replicas: int = 3, annotations: dict | None = None) -> dict:
    meta: dict = {"name": name, "namespace": "default"}
    if annotations:
        meta["annotations"] = annotations
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta,
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "app", "image": image}]}}}}


def conditions(status: dict) -> dict[str, tuple[str, str]]:
    return {c["type"]: (c["status"], c["reason"]) for c in status["conditions"]}


def test_complete_rollout_status() -> None:
    obj = deploy()
    obj["metadata"]["generation"] = 4
    status = deployment_status(obj, RolloutMode.COMPLETE, "t")
    assert (status["observedGeneration"], status["replicas"], status["updatedReplicas"], status["readyReplicas"],
            status["availableReplicas"]) == (4, 3, 3, 3, 3)
    assert conditions(status) == {"Available": ("True", "MinimumReplicasAvailable"),
                                  "Progressing": ("True", "NewReplicaSetAvailable")}


def test_hanging_and_failed_rollouts() -> None:
    obj = deploy()
    obj["metadata"]["generation"] = 1
    hanging = deployment_status(obj, RolloutMode.HANG, "t")
    assert "updatedReplicas" not in hanging and conditions(hanging)["Progressing"] == ("True", "ReplicaSetUpdated")
    failed = deployment_status(obj, RolloutMode.FAIL, "t")
    assert conditions(failed)["Progressing"] == ("False", "ProgressDeadlineExceeded")
    job = {"kind": "Job", "metadata": {"name": "j"}, "spec": {}}
    assert job_status(job, RolloutMode.FAIL, "t")["conditions"][0]["type"] == "Failed"
    assert job_status(job, RolloutMode.COMPLETE, "t")["succeeded"] == 1


def test_status_follows_each_new_generation(kube_api: KubeApiServer) -> None:
    kube_api.put(deploy())
    live = kube_api.get("apps/v1", "Deployment", "web", "default")
    assert live["status"]["observedGeneration"] == 1 and live["status"]["updatedReplicas"] == 3

    kube_api.controller.set_mode("Deployment", "default", "web", "hang")
    kube_api.put(deploy(image="a:2"))
    live = kube_api.get("apps/v1", "Deployment", "web", "default")
    assert live["status"]["observedGeneration"] == 2 and "updatedReplicas" not in live["status"]
    assert live["status"]["availableReplicas"] == 3  # the old revision still serves

    before = live["metadata"]["resourceVersion"]
    kube_api.put(deploy(image="a:2"))  # nothing new: no status write either
    assert kube_api.get("apps/v1", "Deployment", "web", "default")["metadata"]["resourceVersion"] == before


def test_kubectl_rollout_status_sees_success_and_failure(kube_api: KubeApiServer,
                                                         kubectl: Callable[..., Result]) -> None:
    kube_api.put(deploy("good"))
    kube_api.put(deploy("bad", annotations={"sandbox.updater.dev/rollout": "fail"}))
    done = kubectl("rollout", "status", "deployment/good", "--timeout=10s")
    assert done.returncode == 0 and 'deployment "good" successfully rolled out' in done.out
    failed = kubectl("rollout", "status", "deployment/bad", "--timeout=10s")
    assert failed.returncode == 1 and 'deployment "bad" exceeded its progress deadline' in failed.err


def test_statefulset_daemonset_and_job_status(kube_api: KubeApiServer) -> None:
    sts = {**deploy("db"), "kind": "StatefulSet"}
    kube_api.put(sts)
    status = kube_api.get("apps/v1", "StatefulSet", "db", "default")["status"]
    assert status["currentRevision"] == status["updateRevision"] and status["readyReplicas"] == 3
    ds = {**deploy("agent"), "kind": "DaemonSet"}
    del ds["spec"]["replicas"]
    kube_api.put(ds)
    assert kube_api.get("apps/v1", "DaemonSet", "agent", "default")["status"]["numberAvailable"] == 1
    job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "migrate", "namespace": "default"},
           "spec": {"template": {"spec": {"containers": [{"name": "m", "image": "m:1"}]}}}}
    kube_api.put(job)
    conds = kube_api.get("batch/v1", "Job", "migrate", "default")["status"]["conditions"]
    assert ("Complete", "True") in [(c["type"], c["status"]) for c in conds]


def test_setting_a_mode_moves_a_stored_rollout_at_once(kube_api: KubeApiServer) -> None:
    kube_api.controller.set_mode("Deployment", "default", "web", "hang")
    kube_api.put(deploy())
    assert conditions(kube_api.get("apps/v1", "Deployment", "web", "default")["status"])["Available"][0] == "False"
    kube_api.controller.set_mode("Deployment", "default", "web", "complete")
    status = kube_api.get("apps/v1", "Deployment", "web", "default")["status"]
    assert status["updatedReplicas"] == 3 and conditions(status)["Available"] == ("True", "MinimumReplicasAvailable")
