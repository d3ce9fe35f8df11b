"""The forge as clients see it: core routes through PyGithub and python-gitlab on a real pushed branch,
and the client quirks it honours — absolute URLs under the base the client used (PyGithub checks them
when it follows pagination links and completes objects), percent-encoded project paths and branch
names and query-string parameters (python-gitlab)."""

from __future__ import annotations

from pathlib import Path

import gitlab

from tests.sandbox.forgehelp import Workspace, github_client
from updater_sandbox.forge import Forge


def test_pygithub_opens_labels_comments_and_merges(forge: Forge, tmp_path: Path) -> None:
    forge.create_repo("acme/gitops", {"app/deploy.yaml": "image: a:1\n"})
    work = Workspace(forge, "acme/gitops", tmp_path)
    head = work.commit_on("bump", {"app/deploy.yaml": "image: a:2\n"}, "bump a")
    repo = github_client(forge).get_repo("acme/gitops")
    pr = repo.create_pull(base="main", head="bump", title="Bump a", body="auto")
    pr.add_to_labels("updater")
    pr.create_issue_comment("hello")
    assert [p.number for p in repo.get_pulls(state="open", head="acme:bump")] == [pr.number]
    assert [label.name for label in pr.get_labels()] == ["updater"]
    assert pr.head.sha == head and pr.mergeable is True and pr.mergeable_state == "clean"
    result = pr.merge(merge_method="squash", sha=head)
    assert result.merged
    assert forge.repo("acme/gitops").bare.rev_parse("main") == result.sha
    assert forge.repo("acme/gitops").bare.commit(result.sha).parents != (head,)


def test_python_gitlab_opens_notes_and_merges(forge: Forge, tmp_path: Path) -> None:
    forge.create_repo("acme/gitops", {"app/deploy.yaml": "image: a:1\n"}, hook_style="gitlab")
    work = Workspace(forge, "acme/gitops", tmp_path)
    head = work.commit_on("bump", {"app/deploy.yaml": "image: a:2\n"}, "bump a")
    project = gitlab.Gitlab(forge.gitlab_api_url, private_token=forge.token).projects.get("acme/gitops")
    mr = project.mergerequests.create({"source_branch": "bump", "target_branch": "main", "title": "Bump a",
                                       "labels": "updater"})
    mr.notes.create({"body": "hello"})
    found = project.mergerequests.list(state="opened", source_branch="bump", target_branch="main")
    assert [m.iid for m in found] == [mr.iid]
    mr = project.mergerequests.get(mr.iid)
    assert mr.labels == ["updater"] and mr.sha == head and mr.detailed_merge_status == "mergeable"
    mr.merge(sha=head)
    assert project.mergerequests.get(mr.iid).state == "merged"
    assert forge.repo("acme/gitops").bare.is_ancestor(head, "main")


def _open_prs(forge: Forge, tmp_path: Path, count: int) -> None:
    forge.create_repo("acme/gitops")
    work = Workspace(forge, "acme/gitops", tmp_path)
    for i in range(count):
        work.commit_on(f"topic/{i}", {f"f{i}.txt": f"{i}\n"}, f"change {i}")
    repo = github_client(forge).get_repo("acme/gitops")
    for i in range(count):
        repo.create_pull(base="main", head=f"topic/{i}", title=f"change {i}")


def test_pygithub_follows_pagination_and_lazy_urls_under_another_host_name(forge: Forge, tmp_path: Path) -> None:
    _open_prs(forge, tmp_path, 5)
    base = forge.github_api_url.replace("127.0.0.1", "localhost")
    gh = github_client(forge, base_url=base, per_page=2)
    pulls = list(gh.get_repo("acme/gitops").get_pulls(state="all"))
    assert [p.number for p in pulls] == [5, 4, 3, 2, 1]
    assert pulls[0].url.startswith(base + "/repos/acme/gitops/pulls/")
    assert pulls[0].mergeable_state == "clean"  # lazily completed from pulls[0].url
    assert len([r for r in forge.log_for("github", path_contains="/pulls?")]) == 3


def test_python_gitlab_encoded_paths_query_params_and_pages(forge: Forge, tmp_path: Path) -> None:
    _open_prs(forge, tmp_path, 3)
    gl = gitlab.Gitlab(forge.gitlab_api_url, private_token=forge.token, per_page=2)
    project = gl.projects.get("acme/gitops")
    assert project.branches.get("topic/1").name == "topic/1"
    assert any("/projects/acme%2Fgitops" in r.path for r in forge.log_for("gitlab"))
    assert any("/branches/topic%2F1" in r.path for r in forge.log_for("gitlab"))
    assert [m.iid for m in project.mergerequests.list(get_all=True, state="opened")] == [3, 2, 1]
    mr = project.mergerequests.get(1)
    mr.merge(auto_merge=True)  # nothing pending: merges now; the flag travels in the query string
    assert "auto_merge=True" in forge.log_for("gitlab", method="PUT")[-1].path
    assert project.mergerequests.get(1).state == "merged"


def test_gitlab_project_by_numeric_id_and_label_edits(forge: Forge, tmp_path: Path) -> None:
    _open_prs(forge, tmp_path, 1)
    gl = gitlab.Gitlab(forge.gitlab_api_url, private_token=forge.token)
    project = gl.projects.get(forge.repo("acme/gitops").id)
    mr = project.mergerequests.get(1)
    mr.labels = ["updater", "api"]
    mr.save()
    project.mergerequests.update(1, {"add_labels": "prod", "remove_labels": "api"})
    assert project.mergerequests.get(1).labels == ["updater", "prod"]
    assert [m.iid for m in project.mergerequests.list(labels=["prod"])] == [1]
    gh_labels = github_client(forge) \
        .get_repo("acme/gitops").get_pull(1).get_labels()
    assert [label.name for label in gh_labels] == ["updater", "prod"]  # one record, two APIs


def test_server_side_commits_move_branches_and_feed_mergeability(forge: Forge, tmp_path: Path) -> None:
    bare = forge.create_repo("acme/gitops", {"a.txt": "a\n"}).bare
    seed = bare.rev_parse("main")
    head = forge.commit("acme/gitops", "topic", {"a.txt": "b\n"}, "b")
    assert bare.commit(head).parents == (seed,)  # a new branch starts at the default branch
    repo = github_client(forge).get_repo("acme/gitops")
    pr = repo.create_pull(base="main", head="topic", title="b")
    assert pr.head.sha == head and pr.mergeable_state == "clean"
    forge.commit("acme/gitops", "main", {"a.txt": "c\n"}, "c")
    assert repo.get_pull(pr.number).mergeable_state == "dirty"


def test_mergeability_lag_starts_at_the_push_not_at_the_next_read(forge: Forge, tmp_path: Path) -> None:
    import time

    forge.create_repo("acme/gitops", {"a.txt": "a\n"})
    forge.mergeability_delay = 0.5
    work = Workspace(forge, "acme/gitops", tmp_path)
    work.commit_on("topic", {"a.txt": "b\n"}, "b")
    repo = github_client(forge).get_repo("acme/gitops")
    pr = repo.create_pull(base="main", head="topic", title="b")
    assert pr.mergeable is None  # a new pair: still computing
    time.sleep(0.6)
    work.commit_on("topic", {"a.txt": "c\n"}, "c")  # the push restarts the clock...
    time.sleep(0.6)  # ...and it runs without anyone asking
    assert repo.get_pull(pr.number).mergeable is True


def test_concurrent_merges_lose_nothing(forge: Forge) -> None:
    from concurrent.futures import ThreadPoolExecutor

    seed = forge.create_repo("acme/gitops", {f"f{i}.txt": "0\n" for i in range(8)}).bare.rev_parse("main")
    for i in range(8):
        forge.commit("acme/gitops", f"topic/{i}", {f"f{i}.txt": "1\n"}, f"change {i}")
    repo = github_client(forge).get_repo("acme/gitops")
    pulls = [repo.create_pull(base="main", head=f"topic/{i}", title=f"change {i}") for i in range(8)]
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda pr: pr.merge(merge_method="squash").merged, pulls))
    assert results == [True] * 8
    bare = forge.repo("acme/gitops").bare
    assert all(bare.git("show", f"main:f{i}.txt").out == "1\n" for i in range(8))
    assert bare.rev_parse("main~8") == seed  # eight squash commits in a line, none lost
