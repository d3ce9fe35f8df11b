"""`--commit-via api` against the local forge, real git and the real CLI: GitHub (the forge) makes
the bump commit with `createCommitOnBranch` and signs it with its web-flow key, in push and PR mode,
keeping push mode's race guarantees (a stale head retries; 32 concurrent bumps all land)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.landing.pr_support import REPO, app_files, settings
from tests.landing.push_helpers import ROOT, cli_env
from updater.landing.pr import bump_pr
from updater_sandbox import web_flow
from updater_sandbox.bare import BareRepo
from updater_sandbox.forge import Forge
from updater_sandbox.web import LoggedRequest

API = ("github", "graphql", "gitlab")
FAST = ["--retries", "60", "--retry-timeout", "240", "--retry-wait", "0.05", "--retry-wait-max", "2", "--json"]


def _argv(forge: Forge, repo: str, image: str, *extra: str, via: str = "api", provider: str = "github") -> list[str]:
    api_url = forge.github_api_url if provider == "github" else forge.gitlab_api_url
    return [sys.executable, "-m", "updater", "bump", "--repo", forge.repo_url(repo), "--mode", "push",
            "--commit-via", via, "--provider", provider, "--api-url", api_url, "--image", image, *extra]


def _env(forge: Forge, tmp_path: Path) -> dict[str, str]:
    return cli_env(tmp_path, {"GITHUB_TOKEN": forge.token, "GITLAB_TOKEN": forge.token})


def _run(forge: Forge, tmp_path: Path, repo: str, image: str, *extra: str, via: str = "api",
         provider: str = "github") -> subprocess.CompletedProcess[str]:
    return subprocess.run(_argv(forge, repo, image, *extra, via=via, provider=provider), cwd=ROOT,
                          env=_env(forge, tmp_path), capture_output=True, text=True, timeout=120)


def _tip(bare: BareRepo, rev: str) -> str:
    sha = bare.rev_parse(rev)
    assert sha, rev
    return sha


def _verify(forge: Forge, repo: str, sha: str) -> subprocess.CompletedProcess[str]:
    """`git verify-commit` against the forge's web-flow key, as a client that trusts GitHub would."""
    bare = forge.repo(repo).bare
    signers = bare.path.parent / "trusted-signers"
    signers.write_text(f'noreply@github.com namespaces="git" {web_flow.web_flow_key(forge.store)[1]}\n')
    return subprocess.run(["git", "-c", "gpg.format=ssh", "-c", f"gpg.ssh.allowedSignersFile={signers}",
                           "verify-commit", sha], cwd=bare.path, capture_output=True, text=True, timeout=30)


def test_push_mode_lands_a_signed_commit_whose_tree_is_what_git_mode_makes(forge: Forge, tmp_path: Path) -> None:
    for name in ("acme/via-git", "acme/via-api"):
        forge.create_repo(name, app_files(3, shared=True))
    seed = _tip(forge.repo("acme/via-api").bare, "main")
    since = len(forge.requests)
    done = _run(forge, tmp_path, "acme/via-api", "ghcr.io/acme/app01:2.0.0", "--json")
    api_calls = [r for r in forge.requests[since:] if r.service in API]
    by_git = _run(forge, tmp_path, "acme/via-git", "ghcr.io/acme/app01:2.0.0", via="git")
    assert done.returncode == 0 and by_git.returncode == 0, done.stderr + by_git.stderr

    api_bare, git_bare = forge.repo("acme/via-api").bare, forge.repo("acme/via-git").bare
    head = _tip(api_bare, "main")
    assert json.loads(done.stdout)["commit_sha"] == head
    assert api_bare.commit(head).parents == (seed,)
    assert api_bare.commit(head).tree == git_bare.commit(_tip(git_bare, "main")).tree  # byte-identical files
    assert api_bare.changed_files(seed, head) == ["apps/app01/deploy.yaml", "clusters/prod/versions.yaml"]
    assert [f"{r.method} {r.service}" for r in api_calls] == ["POST graphql"]  # one call: createCommitOnBranch

    raw = api_bare.git("cat-file", "commit", head).out
    assert "\ngpgsig -----BEGIN SSH SIGNATURE-----" in raw
    assert "\ncommitter GitHub <noreply@github.com>" in raw and "\nauthor sandbox-bot <" in raw
    assert _verify(forge, "acme/via-api", head).returncode == 0
    unsigned = _tip(git_bare, "main")
    assert _verify(forge, "acme/via-git", unsigned).returncode != 0  # the check can fail
    assert forge.token not in done.stdout + done.stderr + by_git.stdout + by_git.stderr

    import requests

    answer = requests.get(f"{forge.github_api_url}/repos/acme/via-api/commits/{head}",
                          headers={"Authorization": f"token {forge.token}"}, timeout=30).json()
    verification = answer["commit"]["verification"]
    assert (verification["verified"], verification["reason"]) == (True, "valid")
    assert verification["signature"].startswith("-----BEGIN SSH SIGNATURE-----")
    assert "gpgsig" not in verification["payload"] and verification["payload"].startswith(f"tree {answer['commit']['tree']['sha']}")


def test_a_stale_head_is_a_race_retried_from_the_new_tip(forge: Forge, tmp_path: Path) -> None:
    forge.create_repo(REPO, app_files(2))
    moved: list[str] = []

    def move_main_once(entry: LoggedRequest) -> None:
        # right after our clone is served, another pipeline lands on main: our expectedHeadOid goes stale
        if entry.service == "git" and "upload-pack" in entry.path and entry.method == "POST" and not moved:
            moved.append(forge.commit(REPO, "main", {"apps/app00/other.yaml": "x: 1\n"}, "someone else"))

    forge.observers.append(move_main_once)
    done = _run(forge, tmp_path, REPO, "ghcr.io/acme/app01:2.0.0", *FAST)
    assert done.returncode == 0, done.stderr
    bare = forge.repo(REPO).bare
    head = _tip(bare, "main")
    assert moved and bare.commit(head).parents == (moved[0],)  # on top of the commit that raced it
    assert json.loads(done.stdout)["attempts"] == 2
    assert "Expected branch to point to" in done.stderr
    stale = [r for r in forge.log_for("graphql") if r.body and "STALE_DATA" in json.dumps(r.body)]
    assert len(stale) == 1
    assert "ghcr.io/acme/app01:2.0.0" in bare.git("show", f"{head}:apps/app01/deploy.yaml").out


def test_pr_mode_opens_and_then_replaces_the_branch_with_one_signed_commit_on_the_base(forge: Forge) -> None:
    forge.create_repo(REPO, app_files(2))
    bare = forge.repo(REPO).bare
    since = len(forge.requests)
    first = bump_pr(settings(forge, "github", "--image", "ghcr.io/acme/app01:1.1.0", "--commit-via", "api",
                             "--target", "app01"))
    calls = [f"{r.method} {r.service} {r.operation or ''}".strip() for r in forge.requests[since:] if r.service in API]
    assert first.outcome == "created"
    pull = forge.pull(REPO, first.pr_number or 0)
    head = _tip(bare, pull.head)
    assert head == first.commit_sha and bare.commit(head).parents == (_tip(bare, "main"),)
    assert "updater-state" in bare.commit(head).message or "<!--" in bare.commit(head).message
    assert "gpgsig" in bare.git("cat-file", "commit", head).out
    assert not [b for b in bare.branches() if b.startswith("updater-scratch/")]  # the scratch branch is gone
    assert len(calls) <= 6, calls  # find PR, scratch ref, commit, updateRefs, open PR

    forge.commit(REPO, "main", {"apps/app00/deploy.yaml": app_files(1)["apps/app00/deploy.yaml"].replace(
        "1.0.0", "1.0.1")}, "the base moves")
    second = bump_pr(settings(forge, "github", "--image", "ghcr.io/acme/app01:1.2.0", "--commit-via", "api",
                              "--target", "app01"))
    assert (second.outcome, second.pr_number) == ("updated", first.pr_number)
    head = _tip(bare, pull.head)
    assert bare.commit(head).parents == (_tip(bare, "main"),)  # regenerated on the new base, one commit
    assert "ghcr.io/acme/app01:1.2.0" in bare.git("show", f"{head}:apps/app01/deploy.yaml").out
    assert _verify(forge, REPO, head).returncode == 0
    assert not [b for b in bare.branches() if b.startswith("updater-scratch/")]
    assert forge.pull(REPO, first.pr_number or 0).state == "open"


def test_api_on_gitlab_is_bad_input_naming_the_flag(forge: Forge, tmp_path: Path) -> None:
    forge.create_repo(REPO, app_files(1), hook_style="gitlab")
    before = _tip(forge.repo(REPO).bare, "main")
    done = _run(forge, tmp_path, REPO, "ghcr.io/acme/app00:2.0.0", provider="gitlab")
    assert done.returncode == 2
    assert "--commit-via api" in done.stderr and "--commit-via git" in done.stderr
    assert _tip(forge.repo(REPO).bare, "main") == before
    assert forge.token not in done.stderr + done.stdout
    assert [r for r in forge.requests if r.service == "git"] == []  # refused before any clone


@pytest.mark.slow
def test_32_concurrent_api_bumps_of_different_images_all_land(forge: Forge, tmp_path: Path) -> None:
    apps = 32
    forge.create_repo(REPO, app_files(apps, shared=True))
    env = _env(forge, tmp_path)
    images = [f"ghcr.io/acme/app{i:02d}:2.0.0" for i in range(apps)]
    started = time.monotonic()
    procs = [subprocess.Popen(_argv(forge, REPO, image, *FAST), cwd=ROOT, env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
             for image in images]
    results = []
    try:
        for proc in procs:
            out, err = proc.communicate(timeout=max(1.0, 280 - (time.monotonic() - started)))
            results.append((proc.returncode, out, err))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    failures = [(image, code, err[-400:]) for image, (code, _, err) in zip(images, results) if code != 0]
    assert failures == []
    bare = forge.repo(REPO).bare
    assert bare.git("rev-list", "--count", "main").out.strip() == str(1 + apps)  # seed + one commit per bump
    assert bare.git("rev-list", "--merges", "main").out.strip() == ""
    shared = bare.git("show", "main:clusters/prod/versions.yaml").out
    assert all(f"ghcr.io/acme/app{i:02d}:2.0.0" in shared for i in range(apps))
    commits = bare.git("rev-list", "main", "--max-count", str(apps)).out.split()
    assert all("\ngpgsig " in bare.git("cat-file", "commit", sha).out for sha in commits)  # every one signed
    assert any(json.loads(out)["attempts"] > 1 for _, out, _ in results)  # there really was a race
    assert all(forge.token not in out + err for _, out, err in results)
    print(f"32 api-mode bumps landed in {time.monotonic() - started:.1f}s; attempts "
          f"{sorted(json.loads(out)['attempts'] for _, out, _ in results)}")


def test_a_read_only_token_is_an_auth_failure_naming_the_variable(forge: Forge, tmp_path: Path) -> None:
    forge.create_repo(REPO, app_files(1))
    forge.store.logins["read-only-token-77"] = "sandbox-reader"
    forge.store.read_only.add("read-only-token-77")
    before = _tip(forge.repo(REPO).bare, "main")
    done = subprocess.run(_argv(forge, REPO, "ghcr.io/acme/app00:2.0.0", "--token-env", "RO_TOKEN"), cwd=ROOT,
                          env={**_env(forge, tmp_path), "RO_TOKEN": "read-only-token-77"}, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 6, done.stderr
    assert "RO_TOKEN" in done.stderr and "Contents" in done.stderr
    assert "read-only-token-77" not in done.stderr + done.stdout
    assert _tip(forge.repo(REPO).bare, "main") == before


def test_two_pr_bumps_racing_for_one_pull_request_both_end_up_in_it(forge: Forge) -> None:
    forge.create_repo(REPO, app_files(2))
    configs = [settings(forge, "github", "--image", f"ghcr.io/acme/app0{i}:1.1.0", "--commit-via", "api",
                        "--target", "both", "--retry-wait", "0.05", "--retry-wait-max", "0.5") for i in (0, 1)]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(bump_pr, configs))
    assert sorted(r.outcome for r in results) in (["created", "updated"], ["created", "created"])
    assert len({r.pr_number for r in results}) == 1
    bare = forge.repo(REPO).bare
    pull = forge.pull(REPO, results[0].pr_number or 0)
    head = _tip(bare, pull.head)
    assert bare.commit(head).parents == (_tip(bare, "main"),)
    for i in (0, 1):  # neither bump was lost to the other's branch replacement
        assert f"ghcr.io/acme/app0{i}:1.1.0" in bare.git("show", f"{head}:apps/app0{i}/deploy.yaml").out
    assert not [b for b in bare.branches() if b.startswith("updater-scratch/")]
    assert len([p for p in forge.repo(REPO).pulls.values() if p.state == "open"]) == 1


def test_a_branch_that_wants_pull_requests_refuses_the_api_commit_as_a_push_would(forge: Forge, tmp_path: Path) -> None:
    from updater_sandbox.state import Protection

    forge.create_repo(REPO, app_files(1))
    forge.protect(REPO, "main", Protection())  # changes must be made through a pull request
    before = _tip(forge.repo(REPO).bare, "main")
    done = _run(forge, tmp_path, REPO, "ghcr.io/acme/app00:2.0.0", *FAST)
    assert done.returncode == 4, done.stderr
    assert "Changes must be made through a pull request" in done.stderr and "--mode pr" in done.stderr
    assert _tip(forge.repo(REPO).bare, "main") == before
    assert len([r for r in forge.log_for("graphql")]) == 1  # refused at once, not retried


def test_a_502_from_the_graphql_endpoint_is_retried_and_the_bump_lands_once(forge: Forge, tmp_path: Path) -> None:
    from updater_sandbox import faults

    forge.create_repo(REPO, app_files(1))
    seed = _tip(forge.repo(REPO).bare, "main")
    forge.inject(faults.http_status(502, service="graphql", times=2))
    done = _run(forge, tmp_path, REPO, "ghcr.io/acme/app00:2.0.0", *FAST)
    assert done.returncode == 0, done.stderr
    bare = forge.repo(REPO).bare
    assert bare.commit(_tip(bare, "main")).parents == (seed,)  # one commit, not one per try
    assert [r.status for r in forge.log_for("graphql")] == [502, 502, 200]


def test_a_pr_made_through_the_api_merges_into_a_branch_that_requires_signed_commits(forge: Forge) -> None:
    # GitHub trusts its own web-flow signature: the PR's commit (made by createCommitOnBranch) is
    # verified, so the PR may merge where unverified commits are refused ("Commits must have
    # verified signatures."), and the merge commit GitHub makes is signed with web-flow too
    forge.create_repo(REPO, app_files(1))
    forge.require_signatures(REPO, "main")
    done = bump_pr(settings(forge, "github", "--image", "ghcr.io/acme/app00:1.1.0", "--commit-via", "api",
                            "--target", "app00"))
    assert done.outcome == "created" and forge.verified(REPO, done.commit_sha or "")
    answer = requests.put(f"{forge.github_api_url}/repos/{REPO}/pulls/{done.pr_number}/merge",
                          headers={"Authorization": f"token {forge.token}"}, json={"merge_method": "merge"},
                          timeout=30)
    assert answer.status_code == 200, answer.text
    merged = answer.json()["sha"]
    assert forge.verified(REPO, merged) and _verify(forge, REPO, merged).returncode == 0
    commit = requests.get(f"{forge.github_api_url}/repos/{REPO}/commits/{merged}",
                          headers={"Authorization": f"token {forge.token}"}, timeout=30).json()
    assert commit["commit"]["verification"]["verified"] is True
    assert commit["commit"]["verification"]["reason"] == "valid"
