"""The emulator over HTTP: resourceVersions, apply semantics, dry runs, Leases, CRDs, namespaces,
status, watches, auth and the request log."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import requests

from updater_sandbox.kube.server import KubeApiServer

CM_URL = "/api/v1/namespaces/default/configmaps"
APPLY = {"Content-Type": "application/apply-patch+yaml"}


def cm(name: str = "c", **data: str) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "default"}, "data": data}


def test_stale_resource_version_is_a_409_conflict(kube_api: KubeApiServer) -> None:
    created = requests.post(kube_api.url + CM_URL, json=cm(x="1")).json()
    assert created["metadata"]["uid"] and created["metadata"]["creationTimestamp"]
    stale = created["metadata"]["resourceVersion"]
    fresh = requests.put(kube_api.url + CM_URL + "/c", json={**created, "data": {"x": "2"}})
    assert fresh.status_code == 200 and fresh.json()["metadata"]["resourceVersion"] != stale

    refused = requests.put(kube_api.url + CM_URL + "/c", json={**created, "data": {"x": "3"}})
    assert refused.status_code == 409
    body = refused.json()
    assert (body["kind"], body["reason"], body["code"]) == ("Status", "Conflict", 409)
    assert "the object has been modified" in body["message"]
    assert kube_api.get("v1", "ConfigMap", "c", "default")["data"] == {"x": "2"}


def test_error_bodies_for_missing_duplicate_and_invalid(kube_api: KubeApiServer) -> None:
    missing = requests.get(kube_api.url + CM_URL + "/nope")
    assert missing.status_code == 404 and missing.json()["message"] == 'configmaps "nope" not found'
    requests.post(kube_api.url + CM_URL, json=cm())
    again = requests.post(kube_api.url + CM_URL, json=cm())
    assert again.status_code == 409 and again.json()["reason"] == "AlreadyExists"
    bad = requests.post(kube_api.url + CM_URL, json=cm("Bad_Name"))
    assert bad.status_code == 422 and bad.json()["reason"] == "Invalid"
    assert bad.json()["details"]["causes"][0]["field"] == "metadata.name"
    elsewhere = requests.post(kube_api.url + "/api/v1/namespaces/kube-system/configmaps", json=cm())
    assert elsewhere.status_code == 400 and "does not match the namespace" in elsewhere.json()["message"]
    no_ns = requests.post(kube_api.url + "/api/v1/namespaces/ghost/configmaps",
                          json={**cm(), "metadata": {"name": "c"}})
    assert no_ns.status_code == 404 and no_ns.json()["message"] == 'namespaces "ghost" not found'


def test_generation_moves_with_spec_only_and_no_op_writes_keep_the_version(kube_api: KubeApiServer) -> None:
    lease = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
             "metadata": {"name": "l", "namespace": "default"}, "spec": {"holderIdentity": "a"}}
    url = kube_api.url + "/apis/coordination.k8s.io/v1/namespaces/default/leases"
    created = requests.post(url, json=lease).json()
    same = requests.put(url + "/l", json=created).json()
    assert same["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]
    labelled = requests.put(url + "/l", json={**same, "metadata": {**same["metadata"], "labels": {"a": "b"}}}).json()
    assert labelled["metadata"]["generation"] == 1
    respec = requests.put(url + "/l", json={**labelled, "spec": {"holderIdentity": "b"}}).json()
    assert respec["metadata"]["generation"] == 2


def test_lease_leader_election_round_trip(kube_api: KubeApiServer) -> None:
    url = kube_api.url + "/apis/coordination.k8s.io/v1/namespaces/default/leases"
    lease = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": "updater"},
             "spec": {"holderIdentity": "agent-1", "leaseDurationSeconds": 15,
                      "renewTime": "2026-01-01T00:00:00.000000Z"}}
    assert requests.post(url, json=lease).status_code == 201
    assert requests.post(url, json=lease).status_code == 409  # the second candidate loses the create race
    held = requests.get(url + "/updater").json()
    renewed = requests.put(url + "/updater", json={**held, "spec": {**held["spec"], "renewTime": "2026-01-01T00:00:10.000000Z"}})
    assert renewed.status_code == 200
    takeover = requests.put(url + "/updater", json={**held, "spec": {**held["spec"], "holderIdentity": "agent-2"}})
    assert takeover.status_code == 409  # built on the version before the renewal
    assert requests.get(url + "/updater").json()["spec"]["holderIdentity"] == "agent-1"
    assert requests.delete(url + "/updater").status_code == 200
    assert requests.get(url + "/updater").status_code == 404


def test_apply_needs_a_field_manager_and_reports_conflict_causes(kube_api: KubeApiServer) -> None:
    url = kube_api.url + CM_URL + "/c"
    assert requests.patch(url, data=json.dumps(cm(x="1")), headers=APPLY).status_code == 422
    created = requests.patch(url, params={"fieldManager": "a"}, data=json.dumps(cm(x="1")), headers=APPLY)
    assert created.status_code == 201
    clash = requests.patch(url, params={"fieldManager": "b"}, data=json.dumps(cm(x="2")), headers=APPLY)
    assert clash.status_code == 409
    assert clash.json()["details"]["causes"] == [
        {"type": "FieldManagerConflict", "message": 'conflict with "a" using v1', "field": ".data.x"}]
    forced = requests.patch(url, params={"fieldManager": "b", "force": "true"}, data=json.dumps(cm(x="2")),
                            headers=APPLY)
    assert forced.status_code == 200 and forced.json()["data"] == {"x": "2"}


def test_dry_run_is_not_persisted(kube_api: KubeApiServer) -> None:
    url = kube_api.url + CM_URL + "/c"
    params = {"fieldManager": "a", "dryRun": "All"}
    preview = requests.patch(url, params=params, data=json.dumps(cm(x="1")), headers=APPLY)
    assert preview.status_code == 201 and preview.json()["data"] == {"x": "1"}
    assert kube_api.get("v1", "ConfigMap", "c", "default") is None

    requests.patch(url, params={"fieldManager": "a"}, data=json.dumps(cm(x="1")), headers=APPLY)
    before = kube_api.get("v1", "ConfigMap", "c", "default")
    preview = requests.patch(url, params=params, data=json.dumps(cm(x="2")), headers=APPLY).json()
    assert preview["data"] == {"x": "2"}
    assert requests.put(url, params={"dryRun": "All"}, json={**before, "data": {"x": "3"}}).json()["data"] == {"x": "3"}
    assert requests.delete(url, params={"dryRun": "All"}).status_code == 200
    assert kube_api.get("v1", "ConfigMap", "c", "default") == before


def test_server_defaults_and_immutable_fields(kube_api: KubeApiServer) -> None:
    url = kube_api.url + "/apis/apps/v1/namespaces/default/deployments/web"
    deploy = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
              "spec": {"selector": {"matchLabels": {"app": "web"}},
                       "template": {"metadata": {"labels": {"app": "web"}},
                                    "spec": {"containers": [{"name": "app", "image": "a:1"}]}}}}
    live = requests.patch(url, params={"fieldManager": "t"}, data=json.dumps(deploy), headers=APPLY).json()
    assert live["spec"]["replicas"] == 1
    assert live["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] == "IfNotPresent"
    moved = json.loads(json.dumps(deploy).replace('{"app": "web"}', '{"app": "web2"}'))
    refused = requests.patch(url, params={"fieldManager": "t"}, data=json.dumps(moved), headers=APPLY)
    assert refused.status_code == 422
    assert "spec.selector" in refused.json()["message"] and "field is immutable" in refused.json()["message"]


def test_status_subresource_is_separate_from_the_main_resource(kube_api: KubeApiServer) -> None:
    crd_types = kube_api.url + "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
    requests.post(crd_types, json=widget_crd(status=True)).raise_for_status()
    url = kube_api.url + "/apis/acme.io/v1/namespaces/default/widgets"
    created = requests.post(url, json={"apiVersion": "acme.io/v1", "kind": "Widget", "metadata": {"name": "w"},
                                       "spec": {"size": 1}, "status": {"ready": True}}).json()
    assert "status" not in created
    main = requests.put(url + "/w", json={**created, "status": {"ready": True}}).json()
    assert "status" not in main
    status = requests.put(url + "/w/status", json={**main, "spec": {"size": 9}, "status": {"ready": True}}).json()
    assert status["status"] == {"ready": True} and status["spec"] == {"size": 1}


def widget_crd(*, status: bool = False) -> dict:
    version: dict = {"name": "v1", "served": True, "storage": True}
    if status:
        version["subresources"] = {"status": {}}
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": "widgets.acme.io"},
            "spec": {"group": "acme.io", "scope": "Namespaced", "versions": [version],
                     "names": {"kind": "Widget", "plural": "widgets"}}}


def test_crd_lifecycle_changes_discovery(kube_api: KubeApiServer) -> None:
    crds = kube_api.url + "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
    assert requests.get(kube_api.url + "/apis/acme.io/v1").status_code == 404
    requests.post(crds, json=widget_crd()).raise_for_status()
    crd = requests.get(crds + "/widgets.acme.io").json()
    assert {c["type"]: c["status"] for c in crd["status"]["conditions"]}["Established"] == "True"
    groups = [g["name"] for g in requests.get(kube_api.url + "/apis").json()["groups"]]
    assert "acme.io" in groups
    resources = requests.get(kube_api.url + "/apis/acme.io/v1").json()["resources"]
    assert [(r["name"], r["kind"], r["namespaced"]) for r in resources] == [("widgets", "Widget", True)]
    widgets = kube_api.url + "/apis/acme.io/v1/namespaces/default/widgets"
    requests.post(widgets, json={"apiVersion": "acme.io/v1", "kind": "Widget", "metadata": {"name": "w"}}).raise_for_status()

    assert requests.delete(crds + "/widgets.acme.io").status_code == 200
    assert requests.get(widgets).status_code == 404
    requests.post(crds, json=widget_crd()).raise_for_status()
    assert requests.get(widgets).json()["items"] == []  # the old custom resources went with the CRD


def test_deleting_a_namespace_deletes_its_objects(kube_api: KubeApiServer) -> None:
    kube_api.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}})
    kube_api.put({**cm(), "metadata": {"name": "c", "namespace": "team"}})
    kube_api.put(cm())
    assert kube_api.get("v1", "Namespace", "team")["status"] == {"phase": "Active"}
    requests.delete(kube_api.url + "/api/v1/namespaces/team").raise_for_status()
    assert kube_api.get("v1", "ConfigMap", "c", "team") is None
    assert kube_api.get("v1", "ConfigMap", "c", "default") is not None


def test_owner_references_and_finalizers_on_delete(kube_api: KubeApiServer) -> None:
    owner = kube_api.put(cm("owner"))
    ref = {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": owner["metadata"]["uid"]}
    kube_api.put({**cm("child"), "metadata": {"name": "child", "namespace": "default", "ownerReferences": [ref]}})
    kept = kube_api.put({**cm("held"), "metadata": {"name": "held", "namespace": "default", "finalizers": ["a.io/x"]}})
    requests.delete(kube_api.url + CM_URL + "/owner").raise_for_status()
    assert kube_api.get("v1", "ConfigMap", "child", "default") is None

    marked = requests.delete(kube_api.url + CM_URL + "/held").json()
    assert marked["metadata"]["deletionTimestamp"]
    live = kube_api.get("v1", "ConfigMap", "held", "default")
    assert live is not None and live["metadata"]["uid"] == kept["metadata"]["uid"]
    requests.patch(kube_api.url + CM_URL + "/held", data=json.dumps({"metadata": {"finalizers": None}}),
                   headers={"Content-Type": "application/merge-patch+json"}).raise_for_status()
    assert kube_api.get("v1", "ConfigMap", "held", "default") is None


def test_list_pages_and_the_request_log(kube_api: KubeApiServer) -> None:
    for index in range(5):
        kube_api.put(cm(f"c{index}"))
    kube_api.clear_log()
    first = requests.get(kube_api.url + CM_URL, params={"limit": 2}).json()
    assert [o["metadata"]["name"] for o in first["items"]] == ["c0", "c1"]
    rest = requests.get(kube_api.url + CM_URL, params={"limit": 10, "continue": first["metadata"]["continue"]}).json()
    assert [o["metadata"]["name"] for o in rest["items"]] == ["c2", "c3", "c4"] and "continue" not in rest["metadata"]
    requests.get(kube_api.url + "/apis/apps/v1/deployments")
    requests.get(kube_api.url + CM_URL + "/c0")
    assert kube_api.count("list", "configmaps") == 2 and kube_api.count("list", "deployments") == 1
    assert kube_api.counts()[("get", "configmaps")] == 1


def test_watch_streams_changes_after_a_resource_version(kube_api: KubeApiServer) -> None:
    start = requests.get(kube_api.url + CM_URL).json()["metadata"]["resourceVersion"]
    seen: list[tuple[str, str]] = []

    def watch() -> None:
        with requests.get(kube_api.url + CM_URL, params={"watch": "true", "resourceVersion": start,
                                                          "timeoutSeconds": "5"}, stream=True) as response:
            for line in response.iter_lines():
                event = json.loads(line)
                seen.append((event["type"], event["object"]["metadata"]["name"]))
                if len(seen) == 3:
                    return

    watcher = threading.Thread(target=watch)
    watcher.start()
    kube_api.put(cm("w", x="1"))
    kube_api.put(cm("w", x="2"))
    kube_api.delete("v1", "ConfigMap", "w", "default")
    watcher.join(timeout=10)
    assert seen == [("ADDED", "w"), ("MODIFIED", "w"), ("DELETED", "w")]


def test_token_auth_and_kubeconfig(tmp_path: Path) -> None:
    with KubeApiServer(token="kube-token-5678") as server:
        assert requests.get(server.url + "/api/v1/namespaces").status_code == 401
        ok = requests.get(server.url + "/api/v1/namespaces", headers={"Authorization": "Bearer kube-token-5678"})
        assert ok.status_code == 200
        config = json.loads(server.write_kubeconfig(tmp_path / "kc", context="prod").read_text())
        assert config["current-context"] == "prod" and config["clusters"][0]["cluster"]["server"] == server.url
        assert (tmp_path / "kc").stat().st_mode & 0o077 == 0


def test_events_in_both_api_groups(kube_api: KubeApiServer) -> None:
    core = {"apiVersion": "v1", "kind": "Event", "metadata": {"generateName": "api-"},
            "involvedObject": {"kind": "Deployment", "name": "api", "namespace": "default"},
            "reason": "Synced", "message": "applied 3 objects", "type": "Normal"}
    created = requests.post(kube_api.url + "/api/v1/namespaces/default/events", json=core).json()
    assert created["metadata"]["name"].startswith("api-") and len(created["metadata"]["name"]) > 4
    listed = requests.get(kube_api.url + "/api/v1/namespaces/default/events",
                          params={"fieldSelector": "involvedObject.name=api,reason=Synced"}).json()
    assert [e["message"] for e in listed["items"]] == ["applied 3 objects"]
    new_style = {"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "e1"},
                 "regarding": {"kind": "Deployment", "name": "api"}, "reason": "Synced", "note": "ok",
                 "type": "Normal", "action": "Apply", "reportingController": "updater",
                 "reportingInstance": "agent-1", "eventTime": "2026-01-01T00:00:00.000000Z"}
    url = kube_api.url + "/apis/events.k8s.io/v1/namespaces/default/events"
    assert requests.post(url, json=new_style).status_code == 201
    assert [e["note"] for e in requests.get(url).json()["items"]] == ["ok"]


def test_concurrent_writers_on_one_version_exactly_one_wins(kube_api: KubeApiServer) -> None:
    base = requests.post(kube_api.url + CM_URL, json=cm(n="0")).json()
    codes: list[int] = []

    def writer(index: int) -> None:
        response = requests.put(kube_api.url + CM_URL + "/c", json={**base, "data": {"n": str(index)}})
        codes.append(response.status_code)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(1, 9)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert sorted(codes) == [200] + [409] * 7
    winner = kube_api.get("v1", "ConfigMap", "c", "default")
    assert winner["data"]["n"] != "0" and int(winner["metadata"]["resourceVersion"]) > int(base["metadata"]["resourceVersion"])


def test_watch_from_a_forgotten_version_is_410_expired() -> None:
    with KubeApiServer() as server:
        server.store.events = type(server.store.events)(maxlen=3)
        for index in range(6):
            server.put(cm(f"c{index}"))
        response = requests.get(server.url + CM_URL, params={"watch": "1", "resourceVersion": "2", "timeoutSeconds": "2"})
        event = json.loads(response.text.splitlines()[0])
        assert event["type"] == "ERROR" and event["object"]["code"] == 410


def test_defaults_fold_secret_string_data_and_fill_pod_templates(kube_api: KubeApiServer) -> None:
    secret = kube_api.put({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "default"},
                           "stringData": {"password": "hunter2"}})
    assert secret["data"] == {"password": "aHVudGVyMg=="} and secret["type"] == "Opaque" and "stringData" not in secret
    job = kube_api.put({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j", "namespace": "default"},
                        "spec": {"template": {"spec": {"containers": [{"name": "m", "image": "m"}]}}}})
    pod = job["spec"]["template"]["spec"]
    assert (job["spec"]["backoffLimit"], pod["restartPolicy"], pod["terminationGracePeriodSeconds"]) == (6, "Never", 30)
    assert pod["containers"][0]["imagePullPolicy"] == "Always"  # untagged means latest


def test_crds_can_be_held_back_until_established(tmp_path: Path) -> None:
    with KubeApiServer(establish_crds=False) as server:
        crds = server.url + "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
        requests.post(crds, json=widget_crd()).raise_for_status()
        conditions = {c["type"]: c["status"] for c in requests.get(crds + "/widgets.acme.io").json()["status"]["conditions"]}
        assert conditions == {"NamesAccepted": "True", "Established": "False"}
        widgets = server.url + "/apis/acme.io/v1/namespaces/default/widgets"
        assert requests.get(widgets).status_code == 404

        server.establish_crd("widgets.acme.io")
        conditions = {c["type"]: c["status"] for c in requests.get(crds + "/widgets.acme.io").json()["status"]["conditions"]}
        assert conditions["Established"] == "True"
        assert requests.get(widgets).json()["items"] == []
        # later writes to the CRD keep it established
        crd = requests.get(crds + "/widgets.acme.io").json()
        crd["metadata"]["labels"] = {"a": "b"}
        requests.put(crds + "/widgets.acme.io", json=crd).raise_for_status()
        assert requests.get(widgets).status_code == 200


def test_set_status_gives_a_custom_resource_a_ready_condition(kube_api: KubeApiServer) -> None:
    crds = kube_api.url + "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
    requests.post(crds, json=widget_crd(status=True)).raise_for_status()
    kube_api.put({"apiVersion": "acme.io/v1", "kind": "Widget", "metadata": {"name": "w", "namespace": "default"},
                  "spec": {"size": 1}})
    ready = {"conditions": [{"type": "Ready", "status": "True", "reason": "Done"}]}
    written = kube_api.set_status("acme.io/v1", "Widget", "w", "default", ready, manager="widget-operator")
    assert written["status"] == ready and written["spec"] == {"size": 1}
    entry = next(e for e in written["metadata"]["managedFields"] if e["manager"] == "widget-operator")
    assert entry["subresource"] == "status"
    served = requests.get(kube_api.url + "/apis/acme.io/v1/namespaces/default/widgets/w").json()
    assert served["status"] == ready
