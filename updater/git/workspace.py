"""A temporary clone of one branch of a remote repository: the only module that uses GitPython.

`Workspace.clone(url, ...)` clones into a fresh temporary directory that `close()` (or leaving the
`with` block) always removes. Clone strategy: shallow and single-branch by default; with sparse
patterns (from `--path` globs) a partial clone (`--filter=blob:none`) with a non-cone sparse
checkout, so only the matching files are downloaded — when the server does not support filters git
falls back to a plain shallow clone and the sparse checkout still limits the work tree.

Every git command runs through `_git`, with hooks disabled (`-c core.hooksPath=/dev/null`), the
credentials' environment (askpass, no prompts), a per-command timeout, and `GitCommandError` re-raised as our named errors with masked messages
(see `updater.git.failures`). Used by push mode and pull-request mode alike:

    with Workspace.clone(url, credentials=creds, branch="main") as ws:
        ...edit files under ws.root...
        ws.commit(message, files=[...], author=me, committer=me)
        ws.push()                                   # HEAD -> ws.branch, raises PushRejected on a race
        ws.refresh()                                # fetch the new tip and reset to it
        ws.push(branch="updater/x", expected=sha)   # --force-with-lease, for PR branches
"""

from __future__ import annotations

import logging
import re
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from dataclasses import replace
from typing import Literal

from git import Git, Repo
from git.exc import GitCommandError, GitCommandNotFound

from updater.errors import BadInput, RemoteError
from updater.git.credentials import Credentials, git_environment
from updater.git.failures import classify
from updater.git.identity import Identity
from updater.git.push_result import PushResult, parse_porcelain
from updater.git.signing import CommitSigning
from updater.secrets import mask

log = logging.getLogger(__name__)

Strategy = Literal["shallow", "partial+sparse", "shallow+sparse", "full"]

_SCP_LIKE = re.compile(r"^[\w.-]+@[\w.-]+:", re.ASCII)  # git@github.com:acme/gitops.git


def normalise_url(url: str) -> str:
    """A URL git can clone shallowly: local paths become file:// URLs (git ignores --depth for
    plain paths); URLs and scp-like SSH addresses are left alone. Raises BadInput for a missing path."""
    if "://" in url or _SCP_LIKE.match(url):
        return url
    path = Path(url).expanduser()
    if not path.exists():
        raise BadInput(f"--repo {url}: no such repository (not a URL, and no such path)")
    return path.resolve().as_uri()


def sparse_patterns(globs: Sequence[str]) -> list[str]:
    """Non-cone sparse-checkout patterns for `--path` globs relative to the repository root."""
    patterns = []
    for glob in globs:
        glob = glob.strip().removeprefix("./").lstrip("/")
        if glob:
            patterns.append("/" + glob)
    return patterns


class Workspace:
    """One clone of `branch` of `url` in a temporary directory, removed by `close()`."""

    def __init__(self, url: str, *, credentials: Credentials, timeout: float = 120.0,
                 parent: Path | None = None, signing: CommitSigning | None = None) -> None:
        self.url = normalise_url(url)
        self.credentials = credentials
        self.timeout = timeout
        self.signing = signing  # --sign: every commit of this clone is signed (config through the env only)
        self._tmp = Path(tempfile.mkdtemp(prefix="updater-", dir=parent))
        self.root = self._tmp / "repo"
        self._env = self._environment(credentials)
        # No hook runs in our clone: a user's global core.hooksPath (or an init.templateDir that
        # installs hooks) would otherwise run their post-checkout/pre-push/reference-transaction
        # scripts on a bot's clone, with the token in the environment. --no-verify alone skips only
        # pre-commit and commit-msg. A configured credential helper would answer before our askpass
        # (and may hold stale credentials); with a token of our own, none is consulted.
        self._options = ["-c", "core.hooksPath=/dev/null", *(["-c", "credential.helper="] if credentials.token else [])]
        self.branch = ""
        self.strategy: Strategy = "shallow"
        self.shallow = True
        self.sparse = False  # True while the work tree holds only the sparse patterns

    # -- lifecycle -----------------------------------------------------------------------------

    @classmethod
    def clone(cls, url: str, *, credentials: Credentials, branch: str | None = None,
              sparse: Sequence[str] = (), shallow: bool = True, timeout: float = 120.0,
              parent: Path | None = None, signing: CommitSigning | None = None) -> Workspace:
        """Clone `branch` (default: the remote's default branch). `sparse`: `--path` globs to check
        out (partial clone); `shallow=False` fetches the whole history of the branch. With `signing`,
        every commit is signed."""
        workspace = cls(url, credentials=credentials, timeout=timeout, parent=parent, signing=signing)
        try:
            # Without --branch the clone itself finds the remote's default branch (its HEAD symref):
            # no separate `ls-remote --symref` round trip first.
            workspace.branch = branch or ""
            workspace._clone(sparse_patterns(sparse), shallow=shallow)
        except BaseException:
            workspace.close()
            raise
        return workspace

    def close(self) -> None:
        shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _clone(self, patterns: list[str], *, shallow: bool) -> None:
        self.shallow = shallow
        if not patterns:
            self._git(*self._clone_args(shallow), "--", self.url, str(self.root), cwd=self._tmp, action="clone of")
            self._adopt_cloned_branch()
            self.strategy = "shallow" if shallow else "full"
            return
        try:
            err = self._git(*self._clone_args(shallow), "--filter=blob:none", "--no-checkout", "--",
                            self.url, str(self.root), cwd=self._tmp, action="clone of")[2]
            filtered = "filtering not recognized" not in err
            self._adopt_cloned_branch()
            self._sparse_checkout(patterns)
        except RemoteError as error:
            if type(error) is not RemoteError:  # transient: the retry policy's call, not ours
                raise
            # A server can accept the filter yet refuse the lazy fetch of the blobs (protocol v0
            # without uploadpack.allowAnySHA1InWant): clone everything, check out only the patterns.
            log.info("partial clone failed (%s): cloning all files, checking out only --path", error)
            shutil.rmtree(self.root, ignore_errors=True)
            self._git(*self._clone_args(shallow), "--no-checkout", "--", self.url, str(self.root), cwd=self._tmp,
                      action="clone of")
            self._adopt_cloned_branch()
            self._sparse_checkout(patterns)
            self.strategy = "shallow+sparse"
            return
        if not filtered:
            log.info("the server ignored the partial-clone filter: cloned all files, checked out only --path")
        self.strategy = "partial+sparse" if filtered else "shallow+sparse"

    def _clone_args(self, shallow: bool) -> list[str]:
        return ["clone", "--quiet", "--no-tags", "--single-branch", *(["--branch", self.branch] if self.branch else []),
                *(["--depth", "1"] if shallow else [])]

    def _adopt_cloned_branch(self) -> None:
        """After a clone without --branch: the branch the remote's HEAD named (read locally, no
        request). An empty remote leaves HEAD unborn: refused as `remote_default_branch` does."""
        if self.branch:
            return
        status, out, _ = self._git("symbolic-ref", "--quiet", "--short", "HEAD", action="clone of", check=False)
        unborn = self._git("rev-parse", "--quiet", "--verify", "HEAD", action="clone of", check=False)[0] != 0
        if status != 0 or not out.strip() or unborn:
            raise BadInput(mask(f"--repo {self.url}: the remote has no default branch (empty repository?); "
                                "give --branch"))
        self.branch = out.strip()

    def _sparse_checkout(self, patterns: list[str]) -> None:
        self._git("sparse-checkout", "set", "--no-cone", *patterns, action="sparse checkout of")
        self._git("checkout", "--quiet", self.branch, action="checkout of")
        self.sparse = True

    def widen(self) -> None:
        """Check out the whole tree (leave sparse checkout); a partial clone fetches the missing
        files in one batch. Later `refresh()`es keep the whole tree."""
        if self.sparse:
            self._git("sparse-checkout", "disable", action="sparse checkout of")
            self.sparse = False

    # -- queries -------------------------------------------------------------------------------

    def remote_default_branch(self) -> str:
        """The branch the remote's HEAD points at (`git ls-remote --symref URL HEAD`)."""
        out = self._git("ls-remote", "--symref", "--", self.url, "HEAD", cwd=self._tmp, action="ls-remote of")[1]
        for line in out.splitlines():
            if line.startswith("ref: refs/heads/") and line.endswith("\tHEAD"):
                return line.removeprefix("ref: refs/heads/").removesuffix("\tHEAD")
        raise BadInput(mask(f"--repo {self.url}: the remote has no default branch (empty repository?); give --branch"))

    def ls_remote(self, ref: str) -> str | None:
        """The sha `ref` (e.g. refs/heads/main) has on the remote now, or None if it does not exist."""
        out = self._git("ls-remote", "--", "origin", ref, action="ls-remote of")[1]
        for line in out.splitlines():
            sha, _, name = line.partition("\t")
            if name == ref:
                return sha
        return None

    def head(self) -> str:
        """The sha HEAD points at, read from .git by GitPython without starting a git process
        (every retry reads it twice; under contention each process start counts)."""
        try:
            return Repo(self.root).head.commit.hexsha
        except (ValueError, OSError, GitCommandError):  # unborn HEAD, odd ref storage: ask git itself
            return self._git("rev-parse", "HEAD", action="rev-parse in")[1].strip()

    def message(self, rev: str = "HEAD") -> str:
        """The full commit message of `rev` (pull-request mode keeps its state in it)."""
        return self._git("log", "-1", "--format=%B", rev, "--", action="git log in")[1]

    def last_commit(self, paths: Sequence[str]) -> str | None:
        """The newest commit of the branch that changed any of `paths` (needs `shallow=False`), or None.
        `updater promote` reads the agent's evidence on it: the commit that introduced the versions."""
        out = self._git("log", "-1", "--format=%H", "HEAD", "--", *paths, action="git log in")[1].strip()
        return out or None

    def first_parent_since(self, commit: str, *, limit: int = 20) -> list[str]:
        """HEAD back along the first-parent line to `commit` (inclusive), newest first, at most `limit`:
        with `commit` from `last_commit(paths)`, every one of them holds what HEAD holds at `paths`."""
        out = self._git("rev-list", "--first-parent", f"--max-count={limit}", "HEAD", "--not", f"{commit}^@",
                        action="git rev-list in")[1]
        return out.split()

    def config(self, key: str) -> str | None:
        """A git config value as the clone sees it (repository, global, system), or None."""
        status, out, _ = self._git("config", "--get", key, action="git config in", check=False)
        value = out.strip()
        return value if status == 0 and value else None

    # -- changes -------------------------------------------------------------------------------

    def refresh(self, branch: str | None = None) -> str:
        """Fetch the current tip of `branch` (default: the cloned one), reset the work tree to it
        (dropping any local commit and edit), and return its sha."""
        branch = branch or self.branch
        remote_ref = f"refs/remotes/origin/{branch}"
        depth = ["--depth", "1"] if self.shallow else []
        self._git("fetch", "--quiet", "--no-tags", *depth, "origin", f"+refs/heads/{branch}:{remote_ref}",
                  action="fetch from")
        # reset --hard restores every tracked file; the engine only rewrites tracked files (atomically,
        # via a temp file it removes on failure), so there is nothing untracked to clean.
        self._git("reset", "--quiet", "--hard", remote_ref, action="reset in")
        return self.head()

    def commit(self, message: str, *, files: Sequence[str], author: Identity, committer: Identity) -> str:
        """Stage `files` (paths relative to the root) and commit them; returns the new sha.
        The commit is signed with --sign's key (`self.signing`), else when git config asks for it
        (commit.gpgsign): we never override it."""
        message_file = self._tmp / "message.txt"
        message_file.write_text(message if message.endswith("\n") else message + "\n", encoding="utf-8")
        env = {
            "GIT_AUTHOR_NAME": author.name, "GIT_AUTHOR_EMAIL": author.email,
            "GIT_COMMITTER_NAME": committer.name, "GIT_COMMITTER_EMAIL": committer.email,
        }
        # --no-verify: a bot's commit must not run a developer's global commit hooks.
        # `commit -- <files>` stages exactly those files (git's --only): one process instead of add + commit.
        self._git("commit", "--quiet", "--no-verify", "-F", str(message_file), "--", *files, env=env,
                  action="commit in")
        return self.head()

    def push(self, *, branch: str | None = None, expected: str | None = None) -> PushResult:
        """Push HEAD to `branch` (default: the cloned branch) with `--porcelain`.

        With `expected` (a sha, or "" for "must not exist yet") the push is a
        `--force-with-lease=refs/heads/<branch>:<expected>`: it replaces the branch only if it still
        points there. Raises PushRejected (race: the branch moved), PolicyRefused (hook, protected
        branch), AuthFailed, TransientRemoteError or RemoteError; returns the parsed result otherwise.
        """
        ref = f"refs/heads/{branch or self.branch}"
        lease = [f"--force-with-lease={ref}:{expected}"] if expected is not None else []
        status, out, err = self._git("push", "--porcelain", *lease, "origin", f"HEAD:{ref}",
                                     action="push to", check=False)
        result = parse_porcelain(out, err)
        if result.refs:
            result.raise_for_rejection(url=self.url, branch=branch or self.branch)
            return result
        if status != 0:
            raise classify(err, action="push to", url=self.url, auth=self.credentials.describe(),
                           job_token=self.credentials.job_token)
        raise RemoteError(mask(f"push to {self.url}: git printed no result for {ref}"))

    # -- the one way to run git ----------------------------------------------------------------

    def _environment(self, credentials: Credentials) -> dict[str, str]:
        env = git_environment(credentials, self._tmp / "auth", url=self.url)
        return self.signing.environment(env) if self.signing else env

    def _git(self, *args: str, action: str, cwd: Path | None = None, env: dict[str, str] | None = None,
             check: bool = True) -> tuple[int, str, str]:
        """Run `git <args>`; returns (status, stdout, stderr). Failures (when `check`) become named errors."""
        command = ["git", *self._options, *args]
        if self.credentials.current is not None:  # a token that expires: the current one for each command
            self._env = self._environment(replace(self.credentials, token=self.credentials.current()))
        try:
            status, out, err = Git(str(cwd or self.root)).execute(
                command, with_extended_output=True, with_exceptions=check, env={**self._env, **(env or {})},
                kill_after_timeout=self.timeout, strip_newline_in_stdout=False,
            )
        except GitCommandNotFound as error:
            raise BadInput("git is not installed or not on PATH: install git 2.30 or newer") from error
        except GitCommandError as error:
            raise classify(_raw(error.stderr), action=action, url=self.url,
                           auth=self.credentials.describe(), job_token=self.credentials.job_token) from error
        return int(status), str(out), str(err)


def _raw(formatted: str) -> str:
    """GitPython stores stderr as "\\n  stderr: '<text>'"; give back <text>."""
    text = formatted.strip()
    if text.startswith("stderr: '") and text.endswith("'"):
        return text[len("stderr: '"):-1]
    return text
