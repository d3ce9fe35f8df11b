"""Drift seen at once, at scale: drift-to-heal latency with 2,000 objects, and memory with three clusters.

The agent is the real CLI in its own process (`python -m updater agent --config ... --self-heal`),
with one app fanned out to three emulated API servers (the same 2,000-object tree in each) and a
poll interval of 10 minutes, so only the watches can see a manual edit in time. After the first
sync of every cluster, a Deployment's image is edited by another field manager (as `kubectl edit`
would), in each cluster in turn; the latency is from that write to the emulator showing git's image
again. Memory is the agent process's VmRSS/VmHWM, read from /proc after the edits.

    python bench/bench_drift.py                          # 2,000 objects, 3 clusters
    python bench/bench_drift.py --objects 500 --clusters 2
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_agent import TOKEN, Metrics, free_port, image_of, rss_mb, say, tree  # noqa: E402
from tests.gitrepos import make_remote  # noqa: E402
from updater_sandbox.git_http import GitHttpServer  # noqa: E402
from updater_sandbox.kube.server import KubeApiServer  # noqa: E402


def run(base: Path, objects: int, namespaces: int, clusters: int, edits: int) -> dict[str, object]:
    files = tree(objects, namespaces)
    make_remote(base / "srv", files, name="acme/gitops.git")
    results: dict[str, object] = {}
    with ExitStack() as stack:
        server = stack.enter_context(GitHttpServer(base / "srv", token=TOKEN))
        kubes = {f"c{n}": stack.enter_context(KubeApiServer()) for n in range(clusters)}
        for name, kube in kubes.items():
            kube.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "updater-system"}})
            kube.write_kubeconfig(base / f"{name}.kubeconfig")
        config = {"apps": [{"name": "bench", "repo": server.repo_url("acme/gitops.git"), "path": "clusters/bench",
                            "token_env": "GIT_TOKEN", "self_heal": True, "interval": "10m", "clusters": list(kubes)}],
                  "clusters": {name: {"kubeconfig": str(base / f"{name}.kubeconfig")} for name in kubes}}
        (base / "agent.yml").write_text(json.dumps(config))
        port = free_port()
        agent = subprocess.Popen(
            [sys.executable, "-m", "updater", "-q", "agent", "--config", str(base / "agent.yml"),
             "--kubeconfig", str(base / "c0.kubeconfig"), "--listen", f"127.0.0.1:{port}",
             "--cache-dir", str(base / "cache")],
            env={**os.environ, "GIT_TOKEN": TOKEN, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.DEVNULL, stderr=open(base / "agent.log", "w"))
        stack.callback(agent.wait, timeout=30)
        stack.callback(agent.terminate)
        metrics = Metrics(f"http://127.0.0.1:{port}")
        started = time.monotonic()
        say(f"agent started: first sync of {objects} objects in each of {clusters} clusters")
        metrics.wait_syncs(clusters, 900)
        results["first_sync_all_clusters_wall_s"] = round(time.monotonic() - started, 2)
        victim = next(rel for rel in files if "/deployment-" in rel)
        ns, index = victim.split("/")[2], int(Path(victim).stem.rsplit("-", 1)[1])
        name = f"deployment-{index:03d}"
        time.sleep(3)  # the watches start once the kinds are known (asked every 2 s)
        latencies = []
        for n in range(edits):
            kube = list(kubes.values())[n % clusters]
            obj = kube.get("apps/v1", "Deployment", name, ns)
            assert obj is not None
            want = obj["spec"]["template"]["spec"]["containers"][0]["image"]
            obj["spec"]["template"]["spec"]["containers"][0]["image"] = f"evil/app:{n}"
            kube.put(obj, manager="kubectl-edit")
            edited = time.monotonic()
            while image_of(kube, ns, name) != want:
                if time.monotonic() - edited > 60:
                    raise SystemExit("the manual edit was not healed within 60 s")
                time.sleep(0.01)
            latencies.append(time.monotonic() - edited)
            time.sleep(0.5)
        results["drift_to_heal_s"] = [round(x, 2) for x in latencies]
        results["drift_to_heal_max_s"] = round(max(latencies), 2)
        results["watch_requests_per_cluster"] = {n: k.count("watch") for n, k in kubes.items()}
        results["rss_mb"], results["peak_rss_mb"] = (round(x, 1) for x in rss_mb(agent.pid))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--objects", type=int, default=2000, help="objects per cluster")
    parser.add_argument("--namespaces", type=int, default=20)
    parser.add_argument("--clusters", type=int, default=3)
    parser.add_argument("--edits", type=int, default=6, help="manual edits to heal (spread over the clusters)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-drift-") as tmp:
        results = run(Path(tmp), args.objects, args.namespaces, args.clusters, args.edits)
    print(json.dumps({"objects_per_cluster": args.objects, "clusters": args.clusters, **results}, indent=2))
    checks = {"drift-to-heal <= 2 s": results["drift_to_heal_max_s"] <= 2.0,  # type: ignore[operator]
              "resident memory < 150 MB": results["peak_rss_mb"] < 150}  # type: ignore[operator]
    for label, ok in checks.items():
        print(f"{'PASS' if ok else 'FAIL'}  {label}", file=sys.stderr)
    sys.exit(0 if all(checks.values()) else 1)


if __name__ == "__main__":
    main()
