"""The local forge under load: C clients at once, each pushing a branch with real git, opening a pull
request with PyGithub, labelling it, pushing a commit to a shared branch (fetch, commit, push, retry on
non-fast-forward) and merging its pull request (retrying when another merge moved the base) — versus
the same work done by one client, in the same run, on a fresh forge.

Each stage runs for all clients at once and is timed on its own. Correctness is checked, not assumed: every pull request merged, main contains every head, the shared
branch holds every client's commit (no lost ref update), and every JSON response validates against the
vendored contracts. Then a read-only phase: C threads GET one pull request N times each.

    python bench/bench_forge.py                  # 20 clients (the issue's figure)
    python bench/bench_forge.py --clients 8 --reads 20
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import github  # noqa: E402
import requests  # noqa: E402

from tests.gitrepos import GIT_ENV, askpass_env  # noqa: E402
from updater_sandbox.forge import Forge  # noqa: E402
from updater_sandbox.schemas import entry_violations  # noqa: E402

REPO = "acme/gitops"


def _git(*args: str, cwd: Path, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=cwd, env={**os.environ, **GIT_ENV, **env}, capture_output=True,
                          text=True, check=check)


def open_pr(forge: Forge, tmp: Path, i: int) -> github.PullRequest.PullRequest:
    """Stage 1 of one bot: clone, push its branch with git, open, label and comment its PR."""
    env = {"GIT_ASKPASS": str(tmp / "askpass.sh")}  # written once by run()
    work = tmp / f"c{i}"
    _git("clone", "-q", forge.repo_url(REPO), str(work), cwd=tmp, env=env)
    _git("checkout", "-q", "-b", f"bump/{i}", cwd=work, env=env)
    (work / "apps" / f"app{i}.yaml").write_text(f"image: acme/app{i}:2.0.0\n")
    _git("commit", "-qam", f"app{i} 2.0.0", cwd=work, env=env)
    _git("push", "-q", "origin", f"bump/{i}", cwd=work, env=env)
    # PyGithub paces itself (1 s between writes) by default; off, so the forge is what is measured
    repo = github.Github(auth=github.Auth.Token(forge.token), base_url=forge.github_api_url,
                         seconds_between_requests=0, seconds_between_writes=0).get_repo(REPO)
    pr = repo.create_pull(base="main", head=f"bump/{i}", title=f"app{i} 2.0.0")
    pr.add_to_labels("updater")
    pr.create_issue_comment(f"client {i}")
    return pr


def push_shared(tmp: Path, i: int) -> int:
    """Stage 2: everyone commits to one branch at once (fetch, rebase, push until accepted); retries."""
    env = {"GIT_ASKPASS": str(tmp / "askpass.sh")}
    work = tmp / f"c{i}"
    _git("checkout", "-q", "-b", "shared", "origin/shared", cwd=work, env=env)
    (work / "shared" / f"c{i}.txt").write_text(f"{i}\n")
    _git("add", "-A", cwd=work, env=env)
    _git("commit", "-qm", f"shared from {i}", cwd=work, env=env)
    retries = 0
    while _git("push", "-q", "origin", "shared", cwd=work, env=env, check=False).returncode != 0:
        retries += 1
        _git("pull", "-q", "--rebase", "origin", "shared", cwd=work, env=env)
    return retries


def merge(pr: github.PullRequest.PullRequest) -> int:
    """Stage 3: merge through the API, retrying when another merge moved the base; retries."""
    retries = 0
    while True:
        try:
            pr.merge(merge_method="merge")
            return retries
        except github.GithubException as err:
            if err.status not in (405, 409):
                raise
            retries += 1
            time.sleep(0.05)


def stage(forge: Forge, clients: int, work: Any) -> tuple[list[Any], float, int]:
    before, started = len(forge.requests), time.monotonic()
    with ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(work, range(clients)))
    return results, time.monotonic() - started, len(forge.requests) - before


def run(clients: int, reads: int, tmp: Path) -> dict[str, Any]:
    forge = Forge(tmp / "forge")
    files = {f"apps/app{i}.yaml": f"image: acme/app{i}:1.0.0\n" for i in range(clients)}
    out: dict[str, Any] = {"clients": clients}
    with forge:
        repo = forge.create_repo(REPO, {**files, "shared/README": "shared\n"})
        repo.bare.update_ref("refs/heads/shared", repo.bare.rev_parse("main") or "", None)
        askpass_env(tmp, forge.token)
        prs, *out["open"] = stage(forge, clients, lambda i: open_pr(forge, tmp, i))
        retries, *out["shared"] = stage(forge, clients, lambda i: push_shared(tmp, i))
        out["push_retries"] = sum(retries)
        retries, *out["merge"] = stage(forge, clients, lambda i: merge(prs[i]))
        out["merge_retries"] = sum(retries)

        url = f"{forge.github_api_url}/repos/{REPO}/pulls/1"
        headers = {"Authorization": f"token {forge.token}"}

        def reader(_: int) -> None:
            with requests.Session() as session:
                for _ in range(reads):
                    assert session.get(url, headers=headers, timeout=30).status_code == 200

        _, *out["read"] = stage(forge, clients, reader)

        bare = repo.bare
        assert len(repo.pulls) == clients and all(p.merged for p in repo.pulls.values()), "a PR did not merge"
        assert all(bare.is_ancestor(p.final_head_sha or "", "main") for p in repo.pulls.values()), "main lost a head"
        shared = bare.git("ls-tree", "--name-only", "shared", "shared/").out.split()
        assert len(shared) == clients + 1, f"lost shared-branch updates: {len(shared) - 1} of {clients}"
    # validated after the run so the validator's own cost is not counted as the forge's
    violations = [v for entry in forge.requests for v in entry_violations(entry)]
    assert not violations, violations[:5]
    failures = [r for r in forge.requests if r.status is None or r.status >= 500]
    assert not failures, failures[:5]
    out["validated"] = len(forge.requests)
    return out


def main() -> None:
    print("clients | push+open PR (s, req, req/s) | shared-branch race (s, req, retries) | merge (s, req, retries) "
          "| GET pulls/1 (req, req/s) | responses validated")
    for clients in (1, ARGS.clients):
        with tempfile.TemporaryDirectory(prefix="bench-forge-") as tmp:
            r = run(clients, ARGS.reads, Path(tmp))
        (o_s, o_n), (s_s, s_n), (m_s, m_n), (r_s, r_n) = r["open"], r["shared"], r["merge"], r["read"]
        print(f"{clients:>7} | {o_s:6.2f} {o_n:5d} {o_n / o_s:6.1f} | {s_s:6.2f} {s_n:5d} {r['push_retries']:4d} "
              f"| {m_s:5.2f} {m_n:4d} {r['merge_retries']:3d} | {r_n:5d} {r_n / r_s:6.1f} | {r['validated']} "
              f"(0 violations, no lost update)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--reads", type=int, default=25, help="GETs per client in the read phase")
    ARGS = parser.parse_args()
    main()
