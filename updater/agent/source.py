"""Follow one branch of a git repository: ask for its tip cheaply, fetch only when it moved.

`tip()` is one `git ls-remote` (no objects transferred); `checkout(sha)` fetches that branch at depth 1
into a cache directory and checks it out detached, and does nothing when `sha` is already checked out.
A token is sent as an HTTP header through git's environment (`GIT_CONFIG_*`), so it never lands in
`.git/config`, a URL, or an error message; credentials written into the URL (`https://user:TOKEN@`)
are split off first (`credentials.split_url`) and sent the same way. The only module of the agent that runs git.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from updater.errors import BadInput
from updater.git.credentials import header_config
from updater.git.failures import classify
from updater.proc import CommandFailed, run
from updater.agent.credentials import split_url
from updater.secrets import mask, register_secret

_SHA = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")
_AUTH_HINT = "check the token (--token-env) and that it may read the repository"
_INPUT_HINT = "check --repo and --branch"


class Source:
    def __init__(self, repo: str, branch: str, *, cache_dir: Path, token: str | None = None,
                 user: str = "x-access-token", timeout: float = 120.0) -> None:
        # credentials in the URL are split off before any use and travel as the header below
        parsed = split_url(repo)
        self.repo = parsed.url
        self.branch = branch
        self.timeout = timeout
        self.workdir = cache_dir / hashlib.sha256(f"{self.repo}#{branch}".encode()).hexdigest()[:16]
        self.checked_out: str | None = None
        # LC_ALL=C: git's messages in English, the words the failure classifier reads
        self._env = {"GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "", "GCM_INTERACTIVE": "never", "LC_ALL": "C"}
        credentials = (user, token) if token else None
        if credentials is None and parsed.password is not None:
            credentials = (parsed.user or user, parsed.password)
        elif credentials is None and parsed.user and self.repo.lower().startswith(("http:", "https:")):
            credentials = (parsed.user, "")  # `https://TOKEN@host`: the token is the user part
        self._auth = "the token" if credentials else "no token"
        if credentials is not None:
            register_secret(credentials[1] or credentials[0])
            # the header bump sends too: through git's config environment, scoped to the repository's host
            self._env.update(header_config(*credentials, self._env, url=self.repo))

    def tip(self) -> str:
        """The commit the branch points at on the remote."""
        out = self._git("ls-remote", "--exit-code", self.repo, f"refs/heads/{self.branch}", cwd=None,
                        missing_ok=True)
        sha = out.split()[0] if out.strip() else ""
        if not _SHA.match(sha):
            raise BadInput(f"branch {self.branch!r} not found in {mask(self.repo)}: check --branch")
        return sha

    def checkout(self, sha: str) -> Path:
        """The working tree of the branch at `sha` (or at its newer tip if it moved meanwhile)."""
        if self.checked_out == sha and self.workdir.is_dir():
            return self.workdir
        if not (self.workdir / ".git").is_dir():
            self.workdir.mkdir(parents=True, exist_ok=True)
            self._git("init", "-q", cwd=self.workdir)
        self._git("fetch", "-q", "--depth", "1", "--no-tags", self.repo,
                  f"+refs/heads/{self.branch}:refs/updater/tip", cwd=self.workdir)
        # --force resets tracked files; nothing but this class writes in the cache, so no `git clean`
        # (one process less per new commit, which matters on a busy node)
        self._git("checkout", "-q", "--force", "--detach", "refs/updater/tip", cwd=self.workdir)
        self.checked_out = self._git("rev-parse", "HEAD", cwd=self.workdir).strip()
        return self.workdir

    def _git(self, *args: str, cwd: Path | None, missing_ok: bool = False) -> str:
        try:
            # no hook of the host's git config runs in the agent's cache checkout (as for `updater bump`)
            return run(["git", "-c", "core.hooksPath=/dev/null", *args], cwd=cwd, env=self._env,
                       timeout=self.timeout).out
        except CommandFailed as err:
            if missing_ok and err.result is not None and err.result.returncode == 2:
                return ""  # ls-remote --exit-code: the ref does not exist
            # the classifier `updater bump` uses too: one decision for every git failure (an unknown
            # one is permanent; this agent tries again on its next interval anyway)
            stderr = err.result.err if err.result is not None else str(err)
            raise classify(stderr, action=f"git {args[0]} of", url=mask(self.repo), auth=self._auth,
                           auth_hint=_AUTH_HINT, input_hint=_INPUT_HINT) from err
