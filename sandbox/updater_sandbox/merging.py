"""What a pull request's commits allow, and the server-side git writes: merge (merge commit, squash,
rebase, fast-forward), update-branch (merge or rebase the base into the head) and auto-merge.

Every answer is computed from the bare repository at the moment of the call; every write is a new
commit plus a compare-and-swap ref update, so a push racing a merge makes one of them fail cleanly
(`Refused("moved")`) instead of losing the other. Callers hold the store lock.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from updater_sandbox import signing, web_flow
from updater_sandbox.bare import BareRepo, Person, RefMoved
from updater_sandbox.state import Pull, Repo, Store, now_iso

FORGE = Person("Sandbox Forge", "noreply@sandbox.invalid", "")


class Refused(Exception):
    """A merge/update the forge will not do; `code` lets each API pick its own status and wording."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code  # closed | conflict | not_mergeable | sha | method | moved | up_to_date | unknown


@dataclass(frozen=True)
class Mergeability:
    head_sha: str | None
    base_sha: str | None
    checked: bool  # False while the forge is still "computing" (mergeability lag)
    conflict: bool
    behind: bool  # the base tip is not in the head
    required_ci: str  # success | pending | failure for the protection's required contexts ("success" if none)
    any_ci: str  # the combined status of every context ("pending" when there is none)
    checking: str = "checking"  # GitLab's word while not checked (options.gitlab_checking_status)
    lagging_head: str | None = None  # options.head_lag: the previous head GitHub still shows
    unsigned: bool = False  # the base requires signed commits and one of the pull request's is not verified

    @property
    def github_head_sha(self) -> str | None:
        """The head GitHub's API shows (and checks expectedHeadOid against)."""
        return self.lagging_head or self.head_sha


def shas(repo: Repo, pull: Pull) -> tuple[str | None, str | None]:
    if pull.state != "open":
        return pull.final_head_sha, pull.final_base_sha
    branches = repo.bare.branches()  # one read for both: a consistent pair
    return branches.get(pull.head), branches.get(pull.base)


def combined(states: list[str]) -> str:
    """GitHub's combined status: failure wins, then pending; nothing reported is pending."""
    if any(s in ("failure", "error") for s in states):
        return "failure"
    if not states or any(s == "pending" for s in states):
        return "pending"
    return "success"


def assess(store: Store, repo: Repo, pull: Pull) -> Mergeability:
    head, base = shas(repo, pull)
    if head is None or base is None:
        return Mergeability(head, base, True, False, False, "pending", "pending")
    latest = repo.latest_statuses(head)
    protection = repo.settings.protected.get(pull.base)
    required = protection.required_contexts if protection else ()
    required_ci = combined([latest[c].state if c in latest else "pending" for c in required]) if required else "success"
    any_ci = combined([s.state for s in latest.values()])
    if pull.state != "open":
        return Mergeability(head, base, True, False, False, required_ci, any_ci)
    shown = store.shown_head(pull, head)
    checked = store.settled(pull, (base, head))
    conflict = checked and repo.bare.merge_tree(base, head) is None
    behind = not repo.bare.is_ancestor(base, head)
    unsigned = bool(protection and protection.required_signatures) and not signing.all_verified(
        repo, repo.bare.commits_between(base, head))
    return Mergeability(head, base, checked, conflict, behind, required_ci, any_ci, store.options.gitlab_checking_status,
                        shown if shown != head else None, unsigned)


def github_state(repo: Repo, pull: Pull, m: Mergeability) -> tuple[bool | None, str]:
    """(mergeable, mergeable_state) as GitHub reports them."""
    if pull.state != "open":
        return None, "unknown"
    if not m.checked or m.lagging_head:
        return None, "unknown"
    if m.conflict:
        return False, "dirty"
    protection = repo.settings.protected.get(pull.base)
    if pull.draft:
        return True, "draft"
    if m.behind and protection and protection.strict:
        return True, "behind"
    if m.required_ci != "success" or m.unsigned:  # GitHub blocks a PR with unverified commits
        return True, "blocked"
    if m.any_ci == "failure" or (m.any_ci == "pending" and repo.latest_statuses(m.head_sha or "")):
        return True, "unstable"
    return True, "clean"


def gitlab_state(repo: Repo, pull: Pull, m: Mergeability) -> str:
    """GitLab's `detailed_merge_status`."""
    if pull.state != "open":
        return "not_open"
    if pull.draft:
        return "draft_status"
    if not m.checked:
        return m.checking
    if m.conflict:
        return "conflict"
    protection = repo.settings.protected.get(pull.base)
    if m.behind and (repo.settings.merge_method in ("ff", "rebase_merge") or (protection and protection.strict)):
        return "need_rebase"
    if repo.settings.only_allow_merge_if_pipeline_succeeds or (protection and protection.required_contexts):
        ci = m.any_ci if repo.settings.only_allow_merge_if_pipeline_succeeds else m.required_ci
        if ci == "pending":
            return "ci_still_running"
        if ci == "failure":
            return "ci_must_pass"
    return "mergeable"


def _open_with_branches(store: Store, repo: Repo, pull: Pull, closed_message: str) -> Mergeability:
    if pull.state != "open":
        raise Refused("closed", closed_message)
    m = assess(store, repo, pull)
    if m.head_sha is None or m.base_sha is None:
        raise Refused("not_mergeable", "Head or base branch is missing")
    return m


def merge(store: Store, repo: Repo, pull: Pull, *, method: str, by: str, sha: str | None = None,
          title: str | None = None, message: str | None = None, gitlab: bool = False) -> str:
    """Merge `pull` into its base; the new base tip. Raises `Refused` when it cannot."""
    m = _open_with_branches(store, repo, pull, "Pull Request is not mergeable")
    if sha and sha != m.head_sha:
        raise Refused("sha", f"Head branch was modified. Review and try the merge again. ({m.head_sha})")
    if not m.checked:
        raise Refused("unknown", "Mergeability is still being checked")
    if m.conflict:
        raise Refused("conflict", "Pull Request is not mergeable")
    state = gitlab_state(repo, pull, m) if gitlab else github_state(repo, pull, m)[1]
    if m.unsigned and not gitlab:
        raise Refused("not_mergeable", "Commits must have verified signatures.")
    if state not in ("clean", "unstable", "mergeable", "has_hooks"):
        raise Refused("not_mergeable", f"Pull Request is not mergeable ({state})")
    allowed = {"merge": repo.settings.allow_merge_commit, "squash": repo.settings.allow_squash_merge,
               "rebase": repo.settings.allow_rebase_merge, "ff": True}
    if not allowed.get(method, False):
        raise Refused("method", f"{method.capitalize()} merges are not allowed on this repository.")
    # GitHub signs the merge and squash commits it makes with its web-flow key (GitLab does not)
    key = None if gitlab else web_flow.web_flow_key(store)[0]
    new = _merged_tip(repo.bare, pull, m, method=method, title=title, message=message, signing_key=key)
    try:
        repo.bare.update_ref(f"refs/heads/{pull.base}", new, m.base_sha)
    except RefMoved as err:
        raise Refused("moved", "Base branch was modified. Review and try the merge again.") from err
    stamp = now_iso()
    pull.state, pull.merged, pull.merged_at, pull.closed_at = "closed", True, stamp, stamp
    pull.merged_by, pull.merge_commit_sha, pull.updated_at = by, new, stamp
    pull.final_head_sha, pull.final_base_sha, pull.auto_merge = m.head_sha, m.base_sha, None
    if repo.settings.delete_branch_on_merge:
        try:
            repo.bare.delete_ref(f"refs/heads/{pull.head}", m.head_sha)
        except RefMoved:
            pass  # someone pushed meanwhile: GitHub keeps a branch that moved
    return new


def _merged_tip(bare: BareRepo, pull: Pull, m: Mergeability, *, method: str, title: str | None,
                message: str | None, signing_key: Path | None = None) -> str:
    assert m.head_sha and m.base_sha
    if method == "ff":
        if m.behind:
            raise Refused("not_mergeable", "Fast-forward merge is not possible. Rebase the source branch first.")
        return m.head_sha
    if method == "rebase":
        tip = bare.rebase(m.base_sha, bare.commits_between(m.base_sha, m.head_sha), FORGE)
        if tip is None:
            raise Refused("conflict", "This branch can't be rebased")
        return tip
    tree = bare.merge_tree(m.base_sha, m.head_sha)
    if tree is None:
        raise Refused("conflict", "Pull Request is not mergeable")
    if method == "squash":
        text = f"{title or f'{pull.title} (#{pull.number})'}\n\n{message or ''}".rstrip() + "\n"
        return bare.commit_tree(tree, [m.base_sha], text, committer=FORGE, signing_key=signing_key)
    head_label = f"{pull.repo.split('/')[0]}/{pull.head}"
    text = f"{title or f'Merge pull request #{pull.number} from {head_label}'}\n\n{message or pull.title}\n"
    return bare.commit_tree(tree, [m.base_sha, m.head_sha], text, committer=FORGE, signing_key=signing_key)


def update_branch(store: Store, repo: Repo, pull: Pull, *, method: str = "merge",
                  expected_head: str | None = None) -> str:
    """Bring the base into the head (a merge commit, or a rebase); the new head tip."""
    m = _open_with_branches(store, repo, pull, "Pull request is closed")
    if expected_head and expected_head != m.head_sha:
        raise Refused("sha", "expected_head_sha does not match the pull request's current HEAD ref")
    if not m.behind:
        raise Refused("up_to_date", "There are no new commits on the base branch.")
    head, base = m.head_sha, m.base_sha
    assert head and base  # _open_with_branches refused a pull request without both branches
    if method == "rebase":
        tip = repo.bare.rebase(base, repo.bare.commits_between(base, head), FORGE)
        if tip is None:
            raise Refused("conflict", "Rebase failed: Rebase locally, resolve all conflicts, then push the branch.")
    else:
        tree = repo.bare.merge_tree(head, base)
        if tree is None:
            raise Refused("conflict", "merge conflict between base and head")
        text = f"Merge branch '{pull.base}' into {pull.head}\n"
        tip = repo.bare.commit_tree(tree, [head, base], text, committer=FORGE)
    try:
        repo.bare.update_ref(f"refs/heads/{pull.head}", tip, m.head_sha)
    except RefMoved as err:
        raise Refused("moved", "Head branch was modified. Review and try again.") from err
    pull.updated_at = now_iso()
    return tip


def observe_refs(store: Store) -> None:
    """Start the mergeability clock of every open pull request whose head or base just moved
    (called after pushes: the services start computing on push, not on the next read)."""
    with store.lock:
        for repo in list(store.repos.values()):
            for pull in list(repo.pulls.values()):
                head, base = shas(repo, pull)
                if pull.state == "open" and head and base:
                    store.settled(pull, (base, head))
                    store.shown_head(pull, head)


def start_pipelines(store: Store) -> None:
    """options.pipeline_after: GitLab creates an MR head's pipeline a while after the push."""
    after = store.options.pipeline_after
    if after is None:
        return
    with store.lock:
        for repo in list(store.repos.values()):
            for pull in list(repo.pulls.values()):
                head = shas(repo, pull)[0]
                if pull.state != "open" or not head or repo.latest_statuses(head):
                    continue
                store.settled(pull, (shas(repo, pull)[1] or "", head))  # starts the clock on a new head
                if time.monotonic() - pull.seen_at >= after:
                    store.add_status(repo, head, "pending", "ci", description="pipeline created",
                                     creator="gitlab-ci")


def settle_auto_merges(store: Store) -> list[tuple[Repo, Pull]]:
    """Merge every pull request whose auto-merge is on and whose requirements are now met."""
    merged = []
    with store.lock:
        for repo in list(store.repos.values()):
            for pull in list(repo.pulls.values()):
                if pull.state != "open" or pull.auto_merge is None or pull.rebase_in_progress:
                    continue
                auto = pull.auto_merge
                m = assess(store, repo, pull)
                if not m.checked or (auto.sha and auto.sha != m.head_sha):
                    continue
                gitlab_style = auto.via == "gitlab"
                if gitlab_style and m.any_ci != "success" and repo.latest_statuses(m.head_sha or ""):
                    continue  # GitLab merges when the head pipeline succeeds
                try:
                    merge(store, repo, pull, method=auto.method, by=auto.enabled_by, sha=auto.sha,
                          title=auto.commit_title, message=auto.commit_message, gitlab=gitlab_style)
                except Refused:
                    continue
                merged.append((repo, pull))
    return merged
