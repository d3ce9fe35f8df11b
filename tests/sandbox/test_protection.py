"""Branch protection: real pushes refused by the pre-receive hook in each service's words, while
merges through the API (like the services' web merges) still land."""

from __future__ import annotations

from pathlib import Path

import github
import pytest

from tests.sandbox.forgehelp import Workspace, github_client
from updater_sandbox.forge import Forge
from updater_sandbox.state import Protection


def test_github_wording_for_direct_force_and_delete(forge: Forge, tmp_path: Path) -> None:
    forge.create_repo("acme/gitops")
    forge.protect("acme/gitops", "main")
    work = Workspace(forge, "acme/gitops", tmp_path)
    before = forge.repo("acme/gitops").bare.rev_parse("main")
    with pytest.raises(AssertionError) as direct:
        work.commit_on("main", {"a.txt": "a\n"}, "direct")
    assert "GH006: Protected branch update failed for refs/heads/main." in str(direct.value)
    assert "Changes must be made through a pull request." in str(direct.value)
    with pytest.raises(AssertionError, match="Cannot delete this protected branch"):
        work.git("push", "origin", ":main")
    forge.protect("acme/gitops", "main", Protection(allow_direct_push=True))
    work.git("push", "-q", "origin", "main")
    work.git("commit", "-q", "--amend", "-m", "rewritten")
    with pytest.raises(AssertionError, match="Cannot force-push to this branch"):
        work.git("push", "-f", "origin", "main")
    assert forge.repo("acme/gitops").bare.rev_parse("main") != before  # the allowed push landed


def test_gitlab_wording(forge: Forge, tmp_path: Path) -> None:
    forge.create_repo("acme/gitops", hook_style="gitlab")
    forge.protect("acme/gitops", "main")
    work = Workspace(forge, "acme/gitops", tmp_path)
    with pytest.raises(AssertionError,
                       match="GitLab: You are not allowed to push code to protected branches on this project."):
        work.commit_on("main", {"a.txt": "a\n"}, "direct")


def test_protected_base_still_merges_through_the_api_once_required_checks_pass(forge: Forge, tmp_path: Path) -> None:
    forge.create_repo("acme/gitops")
    forge.protect("acme/gitops", "main", Protection(required_contexts=("ci", "lint")))
    head = Workspace(forge, "acme/gitops", tmp_path).commit_on("topic", {"a.txt": "a\n"}, "a")
    repo = github_client(forge).get_repo("acme/gitops")
    pr = repo.create_pull(base="main", head="topic", title="a")
    forge.set_status("acme/gitops", head, "success", context="ci")
    assert repo.get_pull(pr.number).mergeable_state == "blocked"  # lint still missing
    with pytest.raises(github.GithubException) as refused:
        pr.merge()
    assert refused.value.status == 405
    forge.set_status("acme/gitops", head, "success", context="lint")
    assert repo.get_branch("main").protected
    assert pr.merge().merged
    assert forge.repo("acme/gitops").bare.is_ancestor(head, "main")
