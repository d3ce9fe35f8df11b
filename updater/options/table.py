"""The one table of `updater bump` / `updater rebase` options: every row says the flag, the
`.updater.yml` key, the CI input, the environment variables, the built-in default and why.

Everything else is built from (or checked against) this table: the argparse flags
(`updater.options.flags`), the config keys and their JSON Schema entries (`updater.options.schema`),
the CI inputs (`updater.ci.options`, and the check of action.yml / the GitLab component in
`updater.options.inputs`), and the resolution into a frozen request (`updater.options.resolve`).
Adding an option is one row here, one field on the request it belongs to, and its use. Pure data.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["str", "int", "float", "bool", "list"]
Command = Literal["bump", "rebase"]
BOTH: frozenset[Command] = frozenset({"bump", "rebase"})
BUMP: frozenset[Command] = frozenset({"bump"})
REBASE: frozenset[Command] = frozenset({"rebase"})

# argparse groups of `updater bump` (rebase has few flags and shows them in one list)
WHAT, WHERE, REPO, PR, OUTPUT = ("what to change", "where", "repository (push and pull-request modes)",
                                 "pull / merge requests (--mode pr)", "output")


@dataclass(frozen=True)
class Option:
    """One option. `default` is the built-in value (the lowest layer) and `reason` says why it is that."""

    dest: str  # the request field, e.g. "merge_method"
    flag: str  # e.g. "--merge-method"
    kind: Kind
    help: str
    default: object = None
    reason: str = "unset: the code decides (see help)"
    commands: frozenset[Command] = BUMP
    group: str = WHAT
    metavar: str | None = None
    choices: tuple[str, ...] | None = None
    config_key: str | None = None  # the `.updater.yml` settings key; None: not settable there
    config_help: str | None = None  # its description in the JSON Schema
    schema: Mapping[str, object] | None = None  # its JSON Schema (None: from kind/choices)
    ci_input: str | None = None  # the action.yml / GitLab component input; None: not a CI input
    ci_help: str | None = None
    env: tuple[str, ...] = ()  # environment variables read for it (below flags, above the config)
    from_env: Callable[[Mapping[str, str]], object | None] | None = None
    help_for: Mapping[str, str] = field(default_factory=dict)  # per-command help (rebase words it differently)
    required_for: frozenset[Command] = frozenset()

    @property
    def negatable(self) -> bool:
        """A switch that `.updater.yml` can turn on gets a `--no-` form to turn it off again."""
        return self.kind == "bool" and self.config_key is not None


def _identity_from(role: str) -> Callable[[Mapping[str, str]], str | None]:
    def read(env: Mapping[str, str]) -> str | None:
        name, email = env.get(f"GIT_{role}_NAME"), env.get(f"GIT_{role}_EMAIL")
        return f"{name} <{email}>" if name and email else None

    return read


_STRINGS = {"$ref": "#/$defs/strings"}
_TEMPLATE = {"$ref": "#/$defs/template"}

OPTIONS: tuple[Option, ...] = (
    # -- what to change
    Option("image", "--image", "list", "new reference, name:tag, name@digest or name:tag@digest (repeatable)",
           default=(), reason="no image: nothing to do, refused as bad input", metavar="REF", ci_input="images",
           ci_help="new image references, one per line (or comma separated)"),
    Option("target", "--target", "str",
           "a named target from .updater.yml (paths, mode, labels... for one app/environment)",
           metavar="NAME", ci_input="target", ci_help="a named target from .updater.yml, e.g. api/staging"),
    Option("config", "--config", "str", "config file (default: .updater.yml in the tree, if any)", metavar="FILE",
           ci_input="config", ci_help="config file (default: .updater.yml in the manifest repo)"),
    Option("allow_downgrade", "--allow-downgrade", "bool",
           "allow moving to a lower version (refused by default, exit 4)",
           default=False, reason="an older pipeline finishing late must not undo a newer bump",
           ci_input="allow-downgrade", ci_help="allow moving to a lower version"),
    Option("allow_missing", "--allow-missing", "bool",
           "exit 0 when no reference to the image is found (default: exit 3)",
           default=False, reason="finding nothing usually means a wrong --image or --path",
           ci_input="allow-missing", ci_help="succeed when no reference to the image is found"),
    # -- where
    Option("dir", "--dir", "str", "the manifest tree to edit when --repo is not given", default=".",
           reason="the current directory, as grep and sed do", group=WHERE, metavar="DIR", ci_input="dir",
           ci_help="edit this checked-out directory instead of cloning a repository"),
    Option("path", "--path", "list", "limit to files matching GLOB relative to the tree root; ** allowed (repeatable)",
           default=(), reason="no globs: the whole tree", group=WHERE, metavar="GLOB", config_key="paths",
           config_help="Globs (relative to the repository root, ** allowed) limiting the files to change: --path.",
           ci_input="paths", ci_help="globs limiting the files to change, one per line"),
    Option("no_validate", "--no-validate", "bool",
           "skip validating the edit: neither re-building the Kustomize trees it touches nor the schema check",
           default=False, reason="never write or push manifests that no longer build", commands=BOTH, group=WHERE,
           ci_input="no-validate", help_for={"rebase": "skip validating (Kustomize builds and schema check)"}),
    Option("kube_version", "--kube-version", "str",
           "check the objects the edit touches (rendered Kustomize trees, plain files) against the schemas of this "
           "Kubernetes version, offline (default: the newest bundled; README: Validation)",
           reason="unset: the newest version kubernetes-validate bundles: on by default, as a serious validator is "
                  "(kubeconform checks against the latest schemas); a bump changes image values, whose schema is the "
                  "same in every version, and only violations the edit adds refuse it",
           commands=BOTH, group=WHERE, metavar="X.Y", config_key="kube-version",
           schema={"type": "string", "pattern": r"^v?[0-9]+\.[0-9]+(\.[0-9]+)?$"},
           config_help='Kubernetes version (X.Y, quoted: "1.33") whose schemas the objects a bump changes are '
                       "checked against: --kube-version.",
           ci_input="kube-version", ci_help="Kubernetes version (X.Y) whose schemas validate the edit"),
    Option("no_schema_validation", "--no-schema-validation", "bool",
           "skip checking the touched objects against the Kubernetes schemas (the Kustomize trees are still built)",
           default=False, reason="never write or push an object the API server would refuse", commands=BOTH,
           group=WHERE, ci_input="no-schema-validation",
           ci_help="skip checking the touched objects against the Kubernetes schemas"),
    Option("allow_remote_resources", "--allow-remote-resources", "bool",
           "let validation fetch the remote resources (URLs, git repositories) a Kustomize tree names; by default "
           "such a tree is not validated (a warning says so). Local mode only",
           default=False, reason="the repository is untrusted: nothing it names is fetched unless the pipeline asks",
           group=WHERE),  # no config key and no CI input: an untrusted repository must not turn it on
    # -- repository
    Option("repo", "--repo", "str", "clone this repository (https, ssh, file:// or a path) instead of editing --dir",
           reason="unset: local mode (edit --dir)", commands=BOTH, group=REPO, metavar="URL", ci_input="repo",
           ci_help="manifest repository URL (default: this repository)", required_for=REBASE,
           help_for={"rebase": "the manifest repository (https or ssh URL)"}),
    Option("branch", "--branch", "str", "branch to push to or target (default: the remote's default)",
           reason="unset: the remote's default branch", commands=BOTH, group=REPO, metavar="NAME",
           config_key="branch", schema={"type": "string", "minLength": 1},
           config_help="Branch to push to, or the pull request's base: --branch.", ci_input="branch",
           help_for={"rebase": "only used to clone; PRs keep their own bases (default: the remote's default branch)"}),
    Option("mode", "--mode", "str", "push: commit straight to --branch; pr: open or update a pull/merge request "
           "(default: pr for GitHub/GitLab remotes, push otherwise)", reason="unset: chosen from the URL",
           group=REPO, choices=("push", "pr"), config_key="mode", config_help="push or pr: --mode.",
           ci_input="mode", ci_help="push or pr (default: pr on GitHub/GitLab)"),
    Option("token_env", "--token-env", "str",
           "environment variable holding the token (default: GITHUB_TOKEN or GITLAB_TOKEN)",
           reason="unset: the forge's usual variable", commands=BOTH, group=REPO, metavar="VAR"),
    Option("app_id", "--app-id", "str", "authenticate as this GitHub App (with its private key): installation "
           "tokens for the manifest repository, for the API and git (default: $GITHUB_APP_ID)",
           reason="unset: a token (--token-env)", commands=BOTH, group=REPO, metavar="ID", env=("GITHUB_APP_ID",),
           from_env=lambda env: env.get("GITHUB_APP_ID", "").strip() or None),
    Option("app_private_key_env", "--app-private-key-env", "str",
           "environment variable holding the GitHub App's private key (PEM; never printed)",
           reason="unset: --app-private-key-file", commands=BOTH, group=REPO, metavar="VAR"),
    Option("app_private_key_file", "--app-private-key-file", "str", "file holding the GitHub App's private key (PEM)",
           reason="unset: --app-private-key-env", commands=BOTH, group=REPO, metavar="PATH"),
    Option("sign", "--sign", "str", "sign every commit updater makes, with an ssh or gpg private key from the "
           "environment (--signing-key-env); for branches that require signed commits (README: Verified commits)",
           reason="unset: commits are not signed", commands=BOTH, group=REPO, choices=("ssh", "gpg"),
           config_key="sign", config_help="Sign commits with an ssh or gpg key taken from the environment: --sign.",
           ci_input="sign", ci_help="sign commits: ssh or gpg (the private key comes from a secret variable)"),
    Option("signing_key_env", "--signing-key-env", "str",
           "environment variable holding the signing key: ssh private key text or an armored gpg secret key, "
           "or the path of a file holding it (GitLab file variables); never printed (default: UPDATER_SIGNING_KEY)",
           reason="unset: UPDATER_SIGNING_KEY", commands=BOTH, group=REPO, metavar="VAR"),
    Option("message", "--message", "str", "commit message template: {summary} {image} {tag} {old} {new} {files} "
           "{changes} {ci[VAR]}... (README: Usage: push mode)", reason="unset: 'Bump {summary}' and the changes",
           group=REPO, metavar="TEMPLATE", config_key="message", schema=_TEMPLATE,
           config_help="Commit message template: --message.", ci_input="message", ci_help="commit message template"),
    Option("author", "--author", "str", "commit author (default: GIT_AUTHOR_NAME/EMAIL, git config, then updater-bot)",
           reason="unset: git config of the clone, then updater-bot", commands=BOTH, group=REPO,
           metavar="'NAME <EMAIL>'", ci_input="author", ci_help="commit author, 'Name <email>'",
           env=("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL"), from_env=_identity_from("AUTHOR")),
    Option("committer", "--committer", "str", "committer (default: the author)", reason="unset: the author",
           commands=BOTH, group=REPO, metavar="'NAME <EMAIL>'", ci_input="committer",
           ci_help="committer, 'Name <email>'", env=("GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"),
           from_env=_identity_from("COMMITTER")),
    Option("commit_via", "--commit-via", "str", "git: commit in the clone and git push; api: GitHub makes the commit "
           "(GraphQL createCommitOnBranch), signs it and shows it as Verified, for branches that require signed "
           "commits; its author is the token's user or app (--author/--committer do not apply). GitHub only",
           default="git", reason="git push works on every forge and keeps --author; api is GitHub's alone",
           commands=BOTH, group=REPO, choices=("git", "api"), config_key="commit-via",
           config_help="How the bump commit is made: git (commit and push) or api (GitHub creates and signs it; "
                       "GitHub only): --commit-via.",
           ci_input="commit-via", ci_help="git or api (GitHub only: GitHub creates and signs the commit)"),
    Option("retries", "--retries", "int", "attempts at most for push races and transient failures (1: no retry)",
           default=20, reason="a race means progress; 32 racers needed up to 10 tries on a loaded 2-core box",
           commands=BOTH, group=REPO, metavar="N", ci_input="retries",
           ci_help="attempts at most for push races and transient failures"),
    Option("retry_timeout", "--retry-timeout", "float", "give up retrying after this long in total", default=300.0,
           reason="a CI step should fail within minutes, not hang on a dead remote", commands=BOTH, group=REPO,
           metavar="SECONDS", ci_input="retry-timeout", ci_help="give up retrying after this many seconds"),
    Option("retry_wait", "--retry-wait", "float", "smallest backoff step (a failed attempt's duration if longer); "
           "each retry waits a random time up to step x 2^n (full jitter)", default=0.25,
           reason="short enough for a quick second try, long enough to let the winner's push finish",
           commands=BOTH, group=REPO, metavar="SECONDS", ci_input="retry-wait",
           ci_help="first backoff step in seconds (doubled per attempt)"),
    Option("retry_wait_max", "--retry-wait-max", "float", "cap on any single wait between attempts", default=15.0,
           reason="no single wait longer than this, however many attempts", commands=BOTH, group=REPO,
           metavar="SECONDS", ci_input="retry-wait-max", ci_help="cap in seconds on any single wait between attempts"),
    # -- pull / merge requests
    Option("provider", "--provider", "str", "forge type when the URL does not tell", reason="unset: from the URL",
           commands=BOTH, group=PR, choices=("github", "gitlab"), ci_input="provider",
           ci_help="github or gitlab, when the URL does not tell"),
    Option("api_url", "--api-url", "str", "API base URL (GitHub Enterprise, self-managed GitLab)",
           reason="unset: from the URL", commands=BOTH, group=PR, metavar="URL", ci_input="api-url",
           ci_help="forge API base URL (GitHub Enterprise, self-managed GitLab)"),
    Option("pr_branch", "--pr-branch", "str", "branch name template for the PR (default: updater/{base}/{target})",
           reason="unset: updater/{base}/{target}", commands=BOTH, group=PR, metavar="TEMPLATE",
           config_key="pr-branch", schema=_TEMPLATE,
           config_help="Pull request branch template: --pr-branch. {app} and {environment} are filled in.",
           ci_input="pr-branch", ci_help="pull request branch name template",
           help_for={"rebase": "the branch template the PRs were opened with; its fixed prefix selects them "
                               "(default: updater/{base}/{target})"}),
    Option("title", "--title", "str", "PR title template", reason="unset: 'Bump <summary>'", commands=BOTH, group=PR,
           metavar="TEMPLATE", config_key="title", schema=_TEMPLATE,
           config_help="Pull request title template: --title.", ci_input="title",
           ci_help="pull request title template", help_for={"rebase": "PR title template, as given to bump"}),
    Option("body", "--body", "str", "PR body template (a table of changes is appended)",
           reason="unset: the table alone",
           commands=BOTH, group=PR, metavar="TEMPLATE", config_key="body", schema=_TEMPLATE,
           config_help="Pull request body template: --body.", ci_input="body", ci_help="pull request body template",
           help_for={"rebase": "PR body template, as given to bump"}),
    Option("label", "--label", "list", "label to add (repeatable)", default=(), reason="no labels unless asked",
           group=PR, metavar="NAME", config_key="labels", schema=_STRINGS, config_help="Pull request labels: --label.",
           ci_input="labels", ci_help="labels to add, one per line (or comma separated)"),
    Option("reviewer", "--reviewer", "list", "reviewer to request (repeatable)", default=(),
           reason="no reviewers unless asked", group=PR, metavar="USER", config_key="reviewers", schema=_STRINGS,
           config_help="Reviewers to request: --reviewer.", ci_input="reviewers", ci_help="reviewers to request"),
    Option("assignee", "--assignee", "list", "assignee (repeatable)", default=(), reason="no assignees unless asked",
           group=PR, metavar="USER", config_key="assignees", schema=_STRINGS, config_help="Assignees: --assignee.",
           ci_input="assignees", ci_help="assignees"),
    Option("draft", "--draft", "bool", "open as draft", default=False, reason="a bump is ready for review as it is",
           group=PR, config_key="draft", config_help="Open pull requests as drafts: --draft.", ci_input="draft",
           ci_help="open the pull request as a draft"),
    Option("auto_merge", "--auto-merge", "bool", "merge automatically once checks pass", default=False,
           reason="merging is the reviewers' call unless asked", group=PR, config_key="auto-merge",
           config_help="Merge once checks pass: --auto-merge.", ci_input="auto-merge",
           ci_help="merge automatically once checks pass"),
    Option("merge_method", "--merge-method", "str", "merge method for auto-merge", default="squash",
           reason="one commit per bump keeps the base's history readable", group=PR,
           choices=("merge", "squash", "rebase"), config_key="merge-method",
           config_help="Merge method for auto-merge: --merge-method.", ci_input="merge-method",
           ci_help="merge, squash or rebase"),
    # -- rebase only
    Option("all", "--all", "bool", "regenerate every PR whose base moved, even those the forge can merge as they are "
           "(default: only behind or conflicting ones, so CI is not restarted for nothing)", default=False,
           reason="regenerating a PR that merges cleanly only restarts its CI", commands=REBASE),
    # -- output
    Option("dry_run", "--dry-run", "bool", "show what would change; write and push nothing", default=False,
           reason="a bump writes by default: it is what was asked", commands=BOTH, group=OUTPUT, ci_input="dry-run",
           ci_help="show what would change; push nothing",
           help_for={"rebase": "report what would be refreshed; push nothing"}),
    Option("json", "--json", "bool", "print a JSON report on stdout instead of a diff", default=False,
           reason="people read the diff; programs ask for JSON", commands=BOTH, group=OUTPUT,
           help_for={"rebase": "print a JSON report on stdout"}),
)


def for_command(command: Command, rows: tuple[Option, ...] = OPTIONS) -> tuple[Option, ...]:
    return tuple(row for row in rows if command in row.commands)


def config_rows(rows: tuple[Option, ...] = OPTIONS) -> tuple[Option, ...]:
    """The rows settable in `.updater.yml`, in table order."""
    return tuple(row for row in rows if row.config_key is not None)


# Row sets the commands that run bumps for you (watch, promote, status) take as bump's own flags:
# the same flag, environment variable and meaning, handed to each bump unchanged.
APP_AUTH_DESTS = ("app_id", "app_private_key_env", "app_private_key_file")  # GitHub App auth
COMMIT_DESTS = ("commit_via", "sign", "signing_key_env")  # how the bump commit is made and signed
SCHEMA_DESTS = ("kube_version", "no_schema_validation")  # the Kubernetes schemas the edit is checked against


def rows_for(dests: tuple[str, ...], rows: tuple[Option, ...] = OPTIONS) -> tuple[Option, ...]:
    return tuple(row for row in rows if row.dest in dests)
