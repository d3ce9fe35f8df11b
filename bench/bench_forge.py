"""The local forge under load: C clients at once, each pushing a branch with real git, opening a pull
request with PyGithub, labelling it, pushing a commit to a shared branch (fetch, commit, push, retry on
non-fast-forward) and merging its pull request (retrying when another merge moved the base) — versus
the same work done by one client, in the same run, on a fresh forge.

Correctness is checked, not assumed: every pull request merged, main contains every head, the shared
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import github  # noqa: E402
import requests  # noqa: E402

from tests.gitrepos import GIT_ENV, askpass_env  # noqa: E402
from updater.sandbox.forge import Forge  # noqa: E402
from updater.sandbox.schemas import entry_violations  # noqa: E402

REPO = "acme/gitops"


def _git(*args: str, cwd: Path, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=cwd, env={**os.environ, **GIT_ENV, **env}, capture_output=True,
                          text=True, check=check)


def client(forge: Forge, tmp: Path, i: int) -> dict[str, int]:
    """One bot's round; returns its retry counts."""
    env = {"GIT_ASKPASS": str(tmp / "askpass.sh")}  # written once by phase()
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

    push_retries = 0
    _git("checkout", "-q", "-b", "shared", "origin/shared", cwd=work, env=env)
    (work / "shared" / f"c{i}.txt").parent.mkdir(exist_ok=True)
    (work / "shared" / f"c{i}.txt").write_text(f"{i}\n")
    _git("add", "-A", cwd=work, env=env)
    _git("commit", "-qm", f"shared from {i}", cwd=work, env=env)
    while _git("push", "-q", "origin", "shared", cwd=work, env=env, check=False).returncode != 0:
        push_retries += 1
        _git("pull", "-q", "--rebase", "origin", "shared", cwd=work, env=env)

    merge_retries = 0
    while True:
        try:
            pr.merge(merge_method="merge")
            break
        except github.GithubException as err:
            if err.status not in (405, 409):
                raise
            merge_retries += 1
            time.sleep(0.05)  # the base moved (409) or is being re-checked (405): try again, as a bot would
    return {"push_retries": push_retries, "merge_retries": merge_retries}


def phase(clients: int, tmp: Path) -> dict[str, float]:
    violations: list[str] = []
    forge = Forge(tmp / "forge")
    forge.observers.append(lambda entry: violations.extend(entry_violations(entry)))
    files = {f"apps/app{i}.yaml": f"image: acme/app{i}:1.0.0\n" for i in range(clients)}
    with forge:
        repo = forge.create_repo(REPO, {**files, "shared/README": "shared\n"})
        repo.bare.update_ref("refs/heads/shared", repo.bare.rev_parse("main") or "", None)
        askpass_env(tmp, forge.token)
        started = time.monotonic()
        with ThreadPoolExecutor(clients) as pool:
            results = list(pool.map(lambda i: client(forge, tmp, i), range(clients)))
        write_seconds = time.monotonic() - started
        write_requests = len(forge.requests)

        bare = repo.bare
        assert all(p.merged for p in repo.pulls.values()) and len(repo.pulls) == clients, "a PR did not merge"
        heads = [p.final_head_sha or "" for p in repo.pulls.values()]
        assert all(bare.is_ancestor(h, "main") for h in heads), "main lost a merged head"
        shared = bare.git("ls-tree", "--name-only", "shared", "shared/").out.split()
        assert len(shared) == clients + 1, f"lost shared-branch updates: {len(shared) - 1} of {clients}"

        url = f"{forge.github_api_url}/repos/{REPO}/pulls/1"
        headers = {"Authorization": f"token {forge.token}"}
        reads = ARGS.reads

        def reader(_: int) -> None:
            with requests.Session() as session:
                for _ in range(reads):
                    assert session.get(url, headers=headers, timeout=30).status_code == 200

        started = time.monotonic()
        with ThreadPoolExecutor(clients) as pool:
            list(pool.map(reader, range(clients)))
        read_seconds = time.monotonic() - started
    assert not violations, violations[:5]
    failures = [r for r in forge.requests if r.status is None or r.status >= 500]
    assert not failures, failures[:5]
    return {
        "clients": clients, "write_seconds": write_seconds, "write_requests": write_requests,
        "write_rps": write_requests / write_seconds, "read_requests": clients * reads,
        "read_rps": clients * reads / read_seconds,
        "push_retries": sum(r["push_retries"] for r in results),
        "merge_retries": sum(r["merge_retries"] for r in results),
        "validated": len(forge.requests),
    }


def main() -> None:
    for clients in (1, ARGS.clients):
        with tempfile.TemporaryDirectory(prefix="bench-forge-") as tmp:
            r = phase(clients, Path(tmp))
        print(f"{r['clients']:>2} client(s): write round {r['write_seconds']:.2f}s, {r['write_requests']} requests "
              f"({r['write_rps']:.0f} req/s, git + API), push retries {r['push_retries']}, merge retries "
              f"{r['merge_retries']}; reads {r['read_requests']} GET pulls/1 at {r['read_rps']:.0f} req/s; "
              f"{r['validated']} responses validated, 0 violations, no lost update")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--reads", type=int, default=25, help="GETs per client in the read phase")
    ARGS = parser.parse_args()
    main()
