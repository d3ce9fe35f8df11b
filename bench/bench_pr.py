"""Pull-request mode, the issue's 20-app scenario, per provider, on the local forge:

1. 20 bumps of 20 different apps (the real CLI, one process each) run one after another — the
   baseline — and then all at once on a fresh forge: wall time, per-bump latency, attempts, and
   API calls per bump counted from the forge's request log (reads and writes apart; git apart).
2. The 20 PRs merged one at a time in random order through the API, with `updater rebase` (the
   real CLI) between merges: wall time, API calls per rebase, PRs regenerated. Fails unless every
   PR merged without a conflict left for a human.

    python bench/bench_pr.py                       # both providers, 20 apps
    python bench/bench_pr.py --providers gitlab --apps 8
    python bench/bench_pr.py --providers github --apps 8 --commit-via api   # GitHub makes the commits
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.landing.pr_support import REPO, TOKEN_VAR, api_url, app_files, merge  # noqa: E402
from updater_sandbox.forge import Forge  # noqa: E402

API = ("github", "graphql", "gitlab")
CLI_EXTRA: list[str] = []  # flags every CLI run gets (--commit-via api)


def env(forge: Forge, provider: str, tmp: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("GIT_", "CI_", "GITHUB_", "GITLAB_")) and k != "CI"}
    return {**clean, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, TOKEN_VAR[provider]: forge.token,
            "PYTHONPATH": str(ROOT), "TMPDIR": str(tmp)}


def cli(forge: Forge, provider: str, command: str, *extra: str) -> list[str]:
    args = [sys.executable, "-m", "updater", "-q", command, "--repo", forge.repo_url(REPO), "--provider", provider,
            "--api-url", api_url(forge, provider), "--json", *CLI_EXTRA, *extra]
    return args + (["--mode", "pr"] if command == "bump" else [])


def counts(forge: Forge, since: int) -> dict[str, int]:
    log = forge.requests[since:]
    api = [r for r in log if r.service in API]
    return {"api": len(api), "reads": sum(r.method == "GET" for r in api),
            "writes": sum(r.method != "GET" for r in api), "git": sum(r.service == "git" for r in log)}


def run(command: list[str], environment: dict[str, str]) -> tuple[float, dict]:
    """One CLI run: (seconds it took, its JSON report); a failure stops the benchmark."""
    started = time.monotonic()
    done = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command[3:6])} failed ({done.returncode}): {done.stderr.strip()[-400:]}")
    return time.monotonic() - started, json.loads(done.stdout)


def bumps(provider: str, apps: int, *, concurrent: bool, tmp: Path) -> dict[str, object]:
    with Forge(tmp / f"forge-{provider}-{concurrent}") as forge:
        forge.create_repo(REPO, app_files(apps, shared=True))
        environment = env(forge, provider, tmp)
        commands = [cli(forge, provider, "bump", "--image", f"ghcr.io/acme/app{i:02d}:2.0.0", "--label", "deploy")
                    for i in range(apps)]
        started = time.monotonic()
        if concurrent:
            with ThreadPoolExecutor(max_workers=apps) as pool:
                runs = list(pool.map(lambda c: run(c, environment), commands))
        else:
            runs = [run(c, environment) for c in commands]
        latencies = [latency for latency, _ in runs]
        reports = [report for _, report in runs]
        wall = time.monotonic() - started
        used = counts(forge, 0)
        assert sorted(r["outcome"] for r in reports) == ["created"] * apps, [r["outcome"] for r in reports]
        assert len([p for p in forge.repo(REPO).pulls.values() if p.state == "open"]) == apps
        result: dict[str, object] = {
            "wall": wall, "p50": statistics.median(latencies), "p95": sorted(latencies)[int(0.95 * (apps - 1))],
            "attempts": statistics.mean(r["attempts"] for r in reports),
            **{f"{k}_per_bump": v / apps for k, v in used.items()},
        }
        if concurrent:
            result.update(merge_all(forge, provider, apps, reports, environment))
        return result


def merge_all(forge: Forge, provider: str, apps: int, reports: list[dict], environment: dict[str, str]) -> dict[str, object]:
    order = list(range(apps))
    random.Random(2026).shuffle(order)
    started, regenerated, api_calls = time.monotonic(), 0, []
    for app in order:
        number = reports[app]["pr_number"]
        pull = forge.pull(REPO, number)
        head = forge.repo(REPO).bare.rev_parse(pull.head)
        for _ in range(100):  # mergeability lags pushes: a human would wait for the button too
            answer = merge(forge, provider, number, head)
            if answer.status_code != 405 or "conflict" in answer.text.lower():
                break
            time.sleep(0.05)
        if answer.status_code != 200:
            raise SystemExit(f"PR #{number} could not be merged ({answer.status_code}): {answer.text[:300]}")
        since = len(forge.requests)
        done = subprocess.run(cli(forge, provider, "rebase"), env=environment, capture_output=True, text=True, timeout=900)
        if done.returncode != 0:
            raise SystemExit(f"updater rebase failed: {done.stderr.strip()[-400:]}")
        regenerated += sum(p["outcome"] == "updated" for p in json.loads(done.stdout)["pull_requests"])
        api_calls.append(counts(forge, since)["api"])
    assert all(p.merged for p in forge.repo(REPO).pulls.values())
    return {"merge_wall": time.monotonic() - started, "regenerated": regenerated,
            "api_per_rebase": statistics.mean(api_calls), "api_per_rebase_max": max(api_calls)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--apps", type=int, default=20)
    parser.add_argument("--providers", nargs="+", default=["github", "gitlab"], choices=["github", "gitlab"])
    parser.add_argument("--commit-via", choices=["git", "api"], default="git", help="api: GitHub only")
    args = parser.parse_args()
    CLI_EXTRA[:] = ["--commit-via", args.commit_via]
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-pr-") as tmp:
        for provider in args.providers:
            for concurrent in (False, True):
                figures = bumps(provider, args.apps, concurrent=concurrent, tmp=Path(tmp))
                rows.append((provider, "concurrent" if concurrent else "sequential", figures))
                print(provider, "concurrent" if concurrent else "sequential", json.dumps(figures), flush=True)
    print(f"\n| provider | {args.apps} bumps | wall | p50 / p95 per bump | attempts | API calls per bump (reads + writes) "
          "| git requests per bump |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for provider, how, f in rows:
        print(f"| {provider} | {how} | {f['wall']:.1f} s | {f['p50']:.2f} / {f['p95']:.2f} s | {f['attempts']:.2f} | "
              f"{f['api_per_bump']:.2f} ({f['reads_per_bump']:.2f} + {f['writes_per_bump']:.2f}) | {f['git_per_bump']:.1f} |")
    print("\n| provider | merges with `updater rebase` between | wall | PRs regenerated | API calls per rebase (mean / max) |")
    print("| --- | --- | --- | --- | --- |")
    for provider, how, f in rows:
        if how == "concurrent":
            print(f"| {provider} | {args.apps} | {f['merge_wall']:.1f} s | {f['regenerated']} | "
                  f"{f['api_per_rebase']:.1f} / {f['api_per_rebase_max']} |")


if __name__ == "__main__":
    main()
