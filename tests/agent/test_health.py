"""Health rules per kind and per app, on literal status blocks."""

from __future__ import annotations

import pytest

from updater.agent.health import Health, app_health, object_health


def deploy(replicas: int = 2, generation: int = 2, **status: object) -> dict:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "generation": generation},
            "spec": {"replicas": replicas}, "status": status}


@pytest.mark.parametrize(("status", "expected"), [
    ({"observedGeneration": 2, "replicas": 2, "updatedReplicas": 2, "availableReplicas": 2}, Health.HEALTHY),
    ({"observedGeneration": 1, "replicas": 2, "updatedReplicas": 2, "availableReplicas": 2}, Health.PROGRESSING),
    ({"observedGeneration": 2, "replicas": 3, "updatedReplicas": 2, "availableReplicas": 2}, Health.PROGRESSING),
    ({"observedGeneration": 2, "replicas": 2, "updatedReplicas": 1, "availableReplicas": 2}, Health.PROGRESSING),
    ({"observedGeneration": 2, "replicas": 2, "updatedReplicas": 2, "availableReplicas": 1}, Health.PROGRESSING),
    ({"observedGeneration": 2, "conditions": [{"type": "Progressing", "status": "False",
                                                "reason": "ProgressDeadlineExceeded"}]}, Health.DEGRADED),
])
def test_deployment_rollout(status: dict, expected: Health) -> None:
    assert object_health(deploy(**status)).health is expected


def test_statefulset_waits_for_the_update_revision() -> None:
    sts = {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"generation": 1}, "spec": {"replicas": 1},
           "status": {"observedGeneration": 1, "updatedReplicas": 1, "readyReplicas": 1,
                      "currentRevision": "r1", "updateRevision": "r2"}}
    assert object_health(sts).health is Health.PROGRESSING
    sts["status"]["currentRevision"] = "r2"
    assert object_health(sts).health is Health.HEALTHY


def test_daemonset_counts_scheduled_pods() -> None:
    ds = {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {},
          "status": {"desiredNumberScheduled": 3, "updatedNumberScheduled": 3, "numberAvailable": 2}}
    assert object_health(ds).health is Health.PROGRESSING
    ds["status"]["numberAvailable"] = 3
    assert object_health(ds).health is Health.HEALTHY


@pytest.mark.parametrize(("conditions", "expected"), [
    ([{"type": "Complete", "status": "True"}], Health.HEALTHY),
    ([{"type": "Failed", "status": "True", "message": "BackoffLimitExceeded"}], Health.DEGRADED),
    ([], Health.PROGRESSING),
])
def test_job(conditions: list, expected: Health) -> None:
    job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {}, "status": {"conditions": conditions}}
    assert object_health(job).health is expected


def test_generic_ready_condition() -> None:
    cr = {"apiVersion": "example.com/v1", "kind": "Database", "metadata": {}}
    assert object_health(cr).health is Health.HEALTHY  # reports nothing: nothing to wait for
    cr["status"] = {"conditions": [{"type": "Ready", "status": "False", "message": "provisioning"}]}
    assert object_health(cr) .reason == "provisioning" and object_health(cr).health is Health.PROGRESSING
    cr["status"]["conditions"].append({"type": "Stalled", "status": "True"})
    assert object_health(cr).health is Health.DEGRADED


def test_app_is_as_healthy_as_its_worst_object() -> None:
    assert app_health([]) is Health.HEALTHY
    assert app_health([Health.HEALTHY, Health.PROGRESSING]) is Health.PROGRESSING
    assert app_health([Health.DEGRADED, Health.PROGRESSING, Health.HEALTHY]) is Health.DEGRADED
