"""Real behaviours of GitHub and GitLab the forge can act out (`Forge.options`).

Every field is something the real services do that a bot must survive. Where updater handles a
behaviour and it is what the real service does by default, the default here is on (`head_lag`,
`gitlab_checking_status`); the rest stay off so tests written against the forge keep their meaning. A test turns one on with
`forge.options = dataclasses.replace(forge.options, head_lag=2.0)`. Data only; the API modules read it.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

GITLAB_CHECKING = ("checking", "unchecked", "preparing", "approvals_syncing")
ACTIONS_MAY_NOT_CREATE = "GitHub Actions is not permitted to create or approve pull requests."
NOT_COLLABORATOR = ("Reviews may only be requested from collaborators. One or more of the users or teams you "
                    "specified is not a collaborator of the {repo} repository.")
NO_PROTECTION = "Pull request Protected branch rules not configured for this branch"


@dataclass(frozen=True)
class ForgeOptions:
    # GitLab answers 405 to auto-merge (merge_when_pipeline_succeeds / auto_merge) while the MR's head
    # has no pipeline yet; GitLab creates pipelines asynchronously after a push or the MR's creation
    # (python-gitlab#1939). Here a pipeline exists once a status was set for the head.
    auto_merge_needs_pipeline: bool = False
    # Seconds after an MR's head appears until GitLab has created its pipeline (a `pending` status,
    # context "ci", creator "gitlab-ci"; set_status(..., "success") finishes it). None: the forge
    # creates none, tests report CI themselves.
    pipeline_after: float | None = None
    # GitLab's detailed_merge_status while mergeability is computing (see Forge.mergeability_delay):
    # newer GitLab says unchecked (after a push), preparing (a new MR) or approvals_syncing; the
    # default is what current GitLab says after a push.
    gitlab_checking_status: str = "unchecked"
    # GitHub: seconds a pull request's head (REST head.sha, GraphQL headRefOid) still shows the commit
    # before a push, mergeable null / mergeable_state unknown meanwhile; enablePullRequestAutoMerge
    # with expectedHeadOid = the pushed commit is refused until it catches up. GitLab is unaffected.
    # On by default (half a second; github.com takes up to a few): updater waits it out.
    head_lag: float = 0.5
    # GitHub refuses auto-merge on a base branch without protection rules.
    auto_merge_needs_protection: bool = False
    # False: the token is GitHub Actions' GITHUB_TOKEN in a repository whose "Allow GitHub Actions to
    # create and approve pull requests" is off: opening a pull request is a 403.
    actions_may_create_pulls: bool = True
    # None: anyone may be asked to review; otherwise asking anyone else is GitHub's 422.
    collaborators: frozenset[str] | None = None

    def __post_init__(self) -> None:
        if self.gitlab_checking_status not in GITLAB_CHECKING:
            raise ValueError(f"gitlab_checking_status must be one of {GITLAB_CHECKING}")


def parse(text: str, base: ForgeOptions | None = None) -> ForgeOptions:
    """`head_lag=2,auto_merge_needs_pipeline=1,collaborators=alice:bob` (the pytest fixture reads it
    from UPDATER_SANDBOX_FORGE_OPTIONS, to run any forge test against a real behaviour)."""
    known = {f.name: f for f in fields(ForgeOptions)}
    changes: dict[str, object] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, _, value = item.partition("=")
        if name not in known:
            raise ValueError(f"unknown forge option {name!r}; known: {', '.join(known)}")
        default = getattr(ForgeOptions(), name)
        if name == "pipeline_after":
            changes[name] = float(value) if value else None
        elif isinstance(default, bool):
            changes[name] = value.lower() in ("1", "true", "yes", "on", "")
        elif isinstance(default, float):
            changes[name] = float(value)
        elif name == "collaborators":
            changes[name] = frozenset(v for v in value.split(":") if v)
        else:
            changes[name] = value
    return replace(base or ForgeOptions(), **changes)  # type: ignore[arg-type]
