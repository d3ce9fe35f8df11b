"""What the Kubernetes API emulator costs per request, at the agent benchmark's scale (2,000 objects
across 20 namespaces), against the bare HTTP round trip of the same server (`GET /version`) measured
in the same run.

One keep-alive connection (http.client, so client overhead stays small), sequential requests:
server-side apply creating each object, the same apply again (a no-op: no write, no new
resourceVersion), a dry-run apply that changes the image, GET of one object, and a list of every
object of one kind across namespaces (JSON and kubectl's Table form). Also the growth of this
process's resident memory while holding the objects.

    python bench/bench_kube.py                  # 2,000 objects, 20 namespaces
    python bench/bench_kube.py --objects 500
"""

from __future__ import annotations

import argparse
import http.client
import json
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from updater_sandbox.kube.server import KubeApiServer  # noqa: E402

APPLY = {"Content-Type": "application/apply-patch+yaml"}


def deployment(ns: str, i: int, image: str) -> dict:
    labels = {"app": f"app-{i:04d}"}
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": f"app-{i:04d}", "namespace": ns, "labels": {"app.kubernetes.io/managed-by": "updater"}},
            "spec": {"replicas": 2, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels}, "spec": {"containers": [
                         {"name": "app", "image": image, "ports": [{"containerPort": 8080}],
                          "env": [{"name": "MODE", "value": "steady"}]}]}}}}


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Client:
    def __init__(self, url: str) -> None:
        host, port = url.removeprefix("http://").split(":")
        self.conn = http.client.HTTPConnection(host, int(port))

    def call(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None) -> tuple[int, bytes]:
        self.conn.request(method, path, body=body, headers=headers or {})
        response = self.conn.getresponse()
        return response.status, response.read()


def timed(label: str, count: int, action: Callable[[int], None]) -> float:
    started = time.perf_counter()
    for i in range(count):
        action(i)
    per = (time.perf_counter() - started) / count * 1000
    print(f"  {label:<44} {per:8.2f} ms/request  ({count} requests)")
    return per


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=2000)
    parser.add_argument("--namespaces", type=int, default=20)
    args = parser.parse_args()
    before = rss_mb()
    with KubeApiServer() as kube:
        client = Client(kube.url)
        for n in range(args.namespaces):
            kube.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": f"ns-{n:02d}"}})
        objs = [deployment(f"ns-{i % args.namespaces:02d}", i, "ghcr.io/acme/app:1.0.0") for i in range(args.objects)]
        changed = [deployment(o["metadata"]["namespace"], i, "ghcr.io/acme/app:1.1.0") for i, o in enumerate(objs)]

        def path(o: dict) -> str:
            return f"/apis/apps/v1/namespaces/{o['metadata']['namespace']}/deployments/{o['metadata']['name']}"

        def apply(o: dict, query: str = "") -> None:
            status, body = client.call("PATCH", f"{path(o)}?fieldManager=updater&force=true{query}",
                                       json.dumps(o).encode(), APPLY)
            assert status in (200, 201), body[:200]

        print(f"emulator, {args.objects} Deployments in {args.namespaces} namespaces:")
        base = timed("baseline: GET /version (bare round trip)", 500, lambda i: client.call("GET", "/version"))
        create = timed("server-side apply, creating", args.objects, lambda i: apply(objs[i]))
        rv = json.loads(client.call("GET", "/apis/apps/v1/deployments?limit=1")[1])["metadata"]["resourceVersion"]
        noop = timed("server-side apply, no change (no-op)", args.objects, lambda i: apply(objs[i]))
        after = json.loads(client.call("GET", "/apis/apps/v1/deployments?limit=1")[1])["metadata"]["resourceVersion"]
        assert rv == after, "a no-op apply must not write"
        dry = timed("server-side apply dry-run, image changed", args.objects, lambda i: apply(changed[i], "&dryRun=All"))
        get = timed("GET one object", args.objects, lambda i: client.call("GET", path(objs[i])))
        lists = []
        table = {"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"}
        for label, headers in (("list all Deployments (JSON)", {}), ("list all Deployments (Table)", table)):
            started = time.perf_counter()
            status, body = client.call("GET", "/apis/apps/v1/deployments", headers=headers)
            lists.append((time.perf_counter() - started) * 1000)
            print(f"  {label:<44} {lists[-1]:8.1f} ms  ({len(body) // 1024} KiB)")
        grown = rss_mb() - before
        print(f"  resident memory growth of this process       {grown:8.1f} MB")
        ratio = statistics.mean([create, noop, dry, get]) / base
        print(f"  emulated request / bare round trip           {ratio:8.1f}x")


if __name__ == "__main__":
    main()
