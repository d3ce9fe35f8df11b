"""Push mode under contention: N bumps of N different apps to ONE branch over git http-backend,
all at once, versus the same N run one after another — in one run, on fresh identical remotes.

Each bump is the real CLI (`python -m updater bump --repo URL --mode push --json`) in its own
process, with the CLI's default retry settings unless flags say otherwise. Reports total wall time,
per-bump latency p50/p95, attempts per bump, and checks that every bump landed on a linear history.

    python bench/bench_push.py                 # 32 bumps (the issue's figure)
    python bench/bench_push.py --bumps 8 --retries 10
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.gitrepos import git, make_remote  # noqa: E402
from tests.landing.push_helpers import deployment  # noqa: E402
from updater_sandbox.git_http import GitHttpServer  # noqa: E402

TOKEN = "bench-token-0123456789"


def remote(base: Path, bumps: int) -> Path:
    files = {f"apps/app-{i:02d}/deploy.yaml": deployment(f"app-{i:02d}", f"ghcr.io/acme/app-{i:02d}:1.0.0")
             for i in range(bumps)}
    return make_remote(base, files, name="acme/gitops.git")


def argv(url: str, i: int, extra: list[str]) -> list[str]:
    return [sys.executable, "-m", "updater", "-q", "bump", "--repo", url, "--mode", "push", "--json",
            "--image", f"ghcr.io/acme/app-{i:02d}:1.1.0", *extra]


def env(tmp: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("GIT_") and k not in ("GITHUB_TOKEN", "GITLAB_TOKEN")}
    return {**clean, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, "GITHUB_TOKEN": TOKEN,
            "PYTHONPATH": str(ROOT), "TMPDIR": str(tmp)}


def finish(proc: subprocess.Popen[str], started: float) -> dict[str, object]:
    out, err = proc.communicate(timeout=900)
    latency = time.monotonic() - started
    report = json.loads(out) if proc.returncode == 0 and out.strip() else {}
    return {"code": proc.returncode, "latency": latency, "attempts": report.get("attempts"),
            "outcome": report.get("outcome"), "error": err.strip().splitlines()[-1:] if proc.returncode else []}


def phase(name: str, bumps: int, extra: list[str], concurrent: bool, base: Path) -> dict[str, object]:
    load_before = os.getloadavg()[0]
    (base / name).mkdir()
    bare = remote(base / name / "srv", bumps)
    tmp = base / name / "tmp"
    tmp.mkdir()
    with GitHttpServer(bare.parent.parent, token=TOKEN) as server:
        url = server.repo_url("acme/gitops.git")
        started = time.monotonic()
        results = []
        if concurrent:  # one waiting thread per process, so each latency ends when its process does
            procs = [(subprocess.Popen(argv(url, i, extra), cwd=ROOT, env=env(tmp), text=True,
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE), time.monotonic())
                     for i in range(bumps)]
            with ThreadPoolExecutor(max_workers=bumps) as pool:
                results = list(pool.map(lambda pt: finish(*pt), procs))
        else:
            for i in range(bumps):
                t = time.monotonic()
                p = subprocess.Popen(argv(url, i, extra), cwd=ROOT, env=env(tmp), text=True,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                results.append(finish(p, t))
        wall = time.monotonic() - started
    landed = sum(1 for i in range(bumps)
                 if f"ghcr.io/acme/app-{i:02d}:1.1.0" in git("show", f"main:apps/app-{i:02d}/deploy.yaml", cwd=bare))
    linear = git("rev-list", "--merges", "main", cwd=bare) == "" and \
        int(git("rev-list", "--count", "main", cwd=bare)) == 1 + sum(1 for r in results if r["outcome"] == "pushed")
    latencies = sorted(float(r["latency"]) for r in results)  # type: ignore[arg-type]
    attempts = [int(r["attempts"]) for r in results if r["attempts"]]  # type: ignore[arg-type]
    return {
        "phase": name, "bumps": bumps, "ok": sum(1 for r in results if r["code"] == 0), "landed": landed,
        "linear": linear, "wall": wall, "p50": statistics.median(latencies),
        "p95": latencies[max(0, int(round(0.95 * len(latencies))) - 1)],
        "attempts_mean": statistics.mean(attempts) if attempts else 0.0, "attempts_max": max(attempts, default=0),
        "errors": [r["error"] for r in results if r["code"]],
        "load": (load_before, os.getloadavg()[0]),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bumps", type=int, default=32)
    parser.add_argument("--concurrent-only", action="store_true", help="skip the sequential baseline (tuning)")
    args, extra = parser.parse_known_args()
    with tempfile.TemporaryDirectory(prefix="bench-push-") as tmp:
        rows = [] if args.concurrent_only else [phase("sequential", args.bumps, extra, False, Path(tmp))]
        rows.append(phase("concurrent", args.bumps, extra, True, Path(tmp)))
    print(f"git {git('--version', cwd=ROOT)}, {os.cpu_count()} CPUs, extra flags: {' '.join(extra) or '(defaults)'}")
    print("| run | landed | exit 0 | linear | total wall | p50 | p95 | attempts mean / max | load avg before / after |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        print(f"| {r['phase']} | {r['landed']}/{r['bumps']} | {r['ok']}/{r['bumps']} | {r['linear']} | {r['wall']:.1f} s "
              f"| {r['p50']:.2f} s | {r['p95']:.2f} s | {r['attempts_mean']:.2f} / {r['attempts_max']} "
              f"| {r['load'][0]:.1f} / {r['load'][1]:.1f} |")
    ratio = float(rows[-1]["wall"]) / float(rows[0]["wall"])  # type: ignore[arg-type]
    print(f"concurrent / sequential total wall: {ratio:.2f}x (target <= 1.5x)")
    for r in rows:
        for error in r["errors"]:  # type: ignore[union-attr]
            print(f"{r['phase']} failure: {error}")
    ok = all(r["landed"] == r["bumps"] and r["ok"] == r["bumps"] and r["linear"] for r in rows) and ratio <= 1.5
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
