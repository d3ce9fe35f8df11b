"""Signed commits on the forge: GitHub's "Require signed commits" and GitLab's push rule
`reject_unsigned_commits`, enforced by the real pre-receive hook with `git verify-commit` against
the keys users registered through the services' APIs."""

from __future__ import annotations

from pathlib import Path

import subprocess

import github
import pytest
import requests

from tests.gitrepos import git, write_tree
from tests.sandbox.forgehelp import Workspace, github_client, wait_for
from tests.signkeys import gpg_pair, ssh_pair, ssh_signing_config
from updater_sandbox.forge import Forge
from updater_sandbox.state import Protection


def _signed_push(work: Workspace, key: Path, files: dict[str, str], *, branch: str = "main") -> str:
    work.git("fetch", "-q", "origin")
    work.git("checkout", "-q", "-B", branch, "origin/main")
    write_tree(work.path, files)
    work.git("add", "-A")
    work.git(*ssh_signing_config(key), "commit", "-q", "-m", "signed")
    work.git("push", "-q", "origin", f"{branch}:{branch}")
    return work.git("rev-parse", "HEAD").strip()


def _api(forge: Forge, method: str, path: str, **kwargs: object) -> requests.Response:
    return requests.request(method, forge.github_api_url + path, headers={"Authorization": f"token {forge.token}"},
                            timeout=10, **kwargs)  # type: ignore[arg-type]


def test_github_rule_through_the_rest_api_rejects_unsigned_and_unregistered_keys(forge: Forge, tmp_path: Path) -> None:
    forge.create_repo("acme/gitops")
    forge.protect("acme/gitops", "main", Protection(allow_direct_push=True))
    assert _api(forge, "GET", "/repos/acme/gitops/branches/main/protection/required_signatures").json()["enabled"] is False
    enabled = _api(forge, "POST", "/repos/acme/gitops/branches/main/protection/required_signatures")
    assert enabled.status_code == 200 and enabled.json()["enabled"] is True
    assert _api(forge, "POST", "/repos/acme/gitops/branches/topic/protection/required_signatures").status_code == 404

    work = Workspace(forge, "acme/gitops", tmp_path)
    with pytest.raises(AssertionError) as unsigned:
        work.commit_on("main", {"a.txt": "a\n"}, "unsigned")
    assert "error: GH006: Protected branch update failed for refs/heads/main." in str(unsigned.value)
    assert "error: Commits must have verified signatures." in str(unsigned.value)

    key = ssh_pair(tmp_path / "keys")
    with pytest.raises(AssertionError, match="Commits must have verified signatures"):  # signed, key unknown
        _signed_push(work, key.path, {"b.txt": "b\n"})
    created = _api(forge, "POST", "/user/ssh_signing_keys", json={"title": "bot", "key": key.public})
    assert created.status_code == 201 and created.json()["key"] == " ".join(key.public.split()[:2])
    sha = _signed_push(work, key.path, {"c.txt": "c\n"})
    assert forge.repo("acme/gitops").bare.rev_parse("main") == sha and forge.verified("acme/gitops", sha)

    # an unprotected branch takes unsigned pushes; the rule removed, main does too
    assert work.commit_on("topic", {"d.txt": "d\n"}, "unsigned topic")
    assert _api(forge, "DELETE", "/repos/acme/gitops/branches/main/protection/required_signatures").status_code == 204
    assert work.commit_on("main", {"e.txt": "e\n"}, "unsigned after")


def test_a_new_branch_checks_only_its_new_commits(forge: Forge, tmp_path: Path) -> None:
    forge.create_repo("acme/gitops")  # the seed commit is unsigned: history already there is not re-checked
    forge.protect("acme/gitops", "release", Protection(allow_direct_push=True, required_signatures=True))
    key = ssh_pair(tmp_path / "keys")
    forge.trust_signing_key("bot@example.com", key.public)
    sha = _signed_push(Workspace(forge, "acme/gitops", tmp_path), key.path, {"a.txt": "a\n"}, branch="release")
    assert forge.repo("acme/gitops").bare.rev_parse("release") == sha


def test_gpg_key_registered_through_the_api_verifies(forge: Forge, tmp_path: Path) -> None:
    forge.create_repo("acme/gitops")
    forge.protect("acme/gitops", "main", Protection(allow_direct_push=True))
    forge.require_signatures("acme/gitops", "main")
    pair = gpg_pair(tmp_path / "gpg")
    created = _api(forge, "POST", "/user/gpg_keys", json={"armored_public_key": pair.public})
    assert created.status_code == 201 and created.json()["key_id"] == pair.fingerprint[-16:]
    assert _api(forge, "POST", "/user/gpg_keys", json={"armored_public_key": "junk"}).status_code == 422
    assert _api(forge, "POST", "/user/gpg_keys", json={"armored_public_key": pair.secret}).status_code == 422

    home = tmp_path / "signer"
    home.mkdir(mode=0o700)
    subprocess.run(["gpg", "--homedir", str(home), "--batch", "--import"], input=pair.secret, text=True, check=True,
                   capture_output=True)
    try:
        work = Workspace(forge, "acme/gitops", tmp_path)
        write_tree(work.path, {"a.txt": "a\n"})
        git("add", "-A", cwd=work.path)
        git("-c", f"user.signingkey={pair.fingerprint}", "-c", "commit.gpgsign=true", "commit", "-q", "-m", "gpg",
            cwd=work.path, env={**work.env, "GNUPGHOME": str(home)})
        work.git("push", "-q", "origin", "main")
    finally:
        subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "gpg-agent"], check=False)
    assert forge.verified("acme/gitops", "main")


def test_gitlab_push_rule_wording_every_branch(forge: Forge, tmp_path: Path) -> None:
    forge.create_repo("acme/gitops", hook_style="gitlab")
    headers = {"PRIVATE-TOKEN": forge.token}
    base = f"{forge.url}/api/v4/projects/acme%2Fgitops/push_rule"
    put = requests.put(base, json={"reject_unsigned_commits": True}, headers=headers, timeout=10)
    assert put.status_code == 200 and put.json()["reject_unsigned_commits"] is True
    work = Workspace(forge, "acme/gitops", tmp_path)
    with pytest.raises(AssertionError, match="GitLab: Commit must be signed with a GPG key"):
        work.commit_on("feature", {"a.txt": "a\n"}, "unsigned")
    key = ssh_pair(tmp_path / "keys")
    added = requests.post(f"{forge.url}/api/v4/user/keys", headers=headers, timeout=10,
                          json={"title": "bot", "key": key.public, "usage_type": "signing"})
    assert added.status_code == 201 and added.json()["usage_type"] == "signing"
    assert _signed_push(work, key.path, {"b.txt": "b\n"}, branch="feature")
    assert requests.get(base, headers=headers, timeout=10).json()["reject_unsigned_commits"] is True


def test_pygithub_reads_the_rule(forge: Forge) -> None:
    forge.create_repo("acme/gitops")
    forge.require_signatures("acme/gitops", "main")
    branch = github_client(forge).get_repo("acme/gitops").get_branch("main")
    assert branch.get_required_signatures() is True
    branch.remove_required_signatures()
    assert branch.get_required_signatures() is False


def test_a_pull_request_with_an_unverified_commit_is_blocked_until_signed(forge: Forge, tmp_path: Path) -> None:
    forge.create_repo("acme/gitops")
    forge.protect("acme/gitops", "main", Protection(required_signatures=True))
    work = Workspace(forge, "acme/gitops", tmp_path)
    work.commit_on("topic", {"a.txt": "a\n"}, "unsigned")  # an unprotected branch takes it
    repo = github_client(forge).get_repo("acme/gitops")
    pr = repo.create_pull(base="main", head="topic", title="a")
    assert wait_for(lambda: repo.get_pull(pr.number).mergeable_state != "unknown" and
                    repo.get_pull(pr.number).mergeable_state) == "blocked"
    with pytest.raises(github.GithubException) as refused:
        pr.merge()
    assert refused.value.status == 405 and "Commits must have verified signatures" in str(refused.value.data)
    key = ssh_pair(tmp_path / "keys")
    forge.trust_signing_key("bot@example.com", key.public)
    work.git("checkout", "-q", "topic")
    work.git(*ssh_signing_config(key.path), "commit", "-q", "--amend", "-m", "signed")
    work.git("push", "-q", "-f", "origin", "topic")
    assert wait_for(lambda: repo.get_pull(pr.number).mergeable_state == "clean" or None)
    assert pr.merge().merged
