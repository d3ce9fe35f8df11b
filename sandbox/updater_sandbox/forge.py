"""The local forge server: one ThreadingHTTPServer on 127.0.0.1 serving git smart HTTP at
`/<owner>/<repo>.git/...`, GitHub REST at `/api/v3`, GitHub GraphQL at `/api/graphql` and GitLab at
`/api/v4`, plus the Python control API tests and the demo use to set it up and break it.

Boundaries: this module owns sockets, authentication, fault injection, the request log and the
background auto-merge ticker. What the APIs answer lives in `github_api`/`github_pulls`/`graphql`/
`gitlab_api`; git writes in `merging`/`bare`. A handler exception never kills the server: it is
logged and answered with the service's own 500 body.
"""

from __future__ import annotations

import logging
import secrets
import shutil
import socket
import tempfile
import threading
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from updater_sandbox import faults as F
from updater_sandbox import merging, protection, serving, signing
from updater_sandbox.bare import ZERO, BareRepo
from updater_sandbox.git_http import GitBackend
from updater_sandbox.options import ForgeOptions
from updater_sandbox.seed import commit_files, init_bare, keep_refs_loose
from updater_sandbox.state import STATUS_FROM_GITLAB, Protection, Pull, Repo, RepoSettings, Store
from updater_sandbox.web import PREFIXES, LoggedRequest

log = logging.getLogger("updater.sandbox")

class Forge:
    """A GitHub- and GitLab-compatible forge over real bare repositories under `root`."""

    def __init__(self, root: Path | None = None, *, port: int = 0, token: str | None = None,
                 read_only_tokens: tuple[str, ...] = (), login: str = "sandbox-bot") -> None:
        self._owns_root = root is None  # a throw-away forge removes its repositories on stop
        self.root = Path(root) if root else Path(tempfile.mkdtemp(prefix="updater-forge-"))
        self.root.mkdir(parents=True, exist_ok=True)
        self.token = token or f"sandbox_{secrets.token_hex(16)}"
        self.store = Store(self.root)
        self.store.logins[self.token] = login
        for extra in read_only_tokens:
            self.store.logins[extra] = "sandbox-reader"
            self.store.read_only.add(extra)
        self.faults: list[F.Fault] = []
        self.requests: list[LoggedRequest] = []
        self.observers: list[Callable[[LoggedRequest], None]] = []
        self._faults_lock = threading.Lock()
        self.backend = GitBackend(self.root)
        self._stopped = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), _handler_class(self))
        self._httpd.daemon_threads = True
        self._threads = [threading.Thread(target=self._httpd.serve_forever, name="forge-http", daemon=True),
                         threading.Thread(target=self._tick, name="forge-auto-merge", daemon=True)]
        self._adopt_existing()

    # --- lifecycle and addresses ---------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"  # an AF_INET server: host is a str

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def git_url(self) -> str:
        return self.url

    @property
    def github_api_url(self) -> str:
        return self.url + PREFIXES["github"]

    @property
    def gitlab_api_url(self) -> str:
        """What python-gitlab takes as `url` (it appends /api/v4 itself)."""
        return self.url

    def repo_url(self, full_name: str) -> str:
        return f"{self.url}/{full_name}.git"

    def start(self) -> Forge:
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and free the port (also safe on a forge that was never started)."""
        self._stopped.set()
        if self._threads[0].is_alive():
            self._httpd.shutdown()
        self._httpd.server_close()
        if self._owns_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Forge:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- control API: repositories and settings ------------------------------------------------

    def create_repo(self, full_name: str, files: Mapping[str, str | bytes] | None = None, *,
                    default_branch: str = "main", hook_style: str = "github") -> Repo:
        """A bare repository `owner/name` whose `default_branch` holds one commit with `files`."""
        owner, _, name = full_name.partition("/")
        if not owner or not name or "/" in name:
            raise ValueError(f"repository name must be owner/name, got {full_name!r}")
        with self.store.lock:
            if full_name in self.store.repos:
                raise ValueError(f"repository {full_name} already exists")
            bare = init_bare(self.root / f"{full_name}.git", files or {"README.md": f"# {name}\n"}, default_branch)
            repo = self.store.add_repo(owner, name, BareRepo(bare))
            repo.settings.hook_style = hook_style
            protection.install_hook(repo)
            return repo

    def repo(self, full_name: str) -> Repo:
        repo = self.store.repo(full_name)
        if repo is None:
            raise KeyError(full_name)
        return repo

    def settings(self, full_name: str) -> RepoSettings:
        """The live settings object: change fields directly (allow_auto_merge, merge methods...)."""
        return self.repo(full_name).settings

    def protect(self, full_name: str, branch: str, rule: Protection | None = None) -> None:
        """Protect `branch` (pushes go through the hook; merges check required contexts/strict)."""
        with self.store.lock:
            repo = self.repo(full_name)
            repo.settings.protected[branch] = rule or Protection()
            protection.write_config(repo)

    def unprotect(self, full_name: str, branch: str) -> None:
        with self.store.lock:
            repo = self.repo(full_name)
            repo.settings.protected.pop(branch, None)
            protection.write_config(repo)

    def require_signatures(self, full_name: str, branch: str, *, enabled: bool = True) -> None:
        """GitHub's "Require signed commits" on protected `branch` (protected first if it is not), or
        on GitLab-style repositories the project push rule `reject_unsigned_commits` (every branch)."""
        with self.store.lock:
            repo = self.repo(full_name)
            if repo.settings.hook_style == "gitlab":
                repo.settings.reject_unsigned_commits = enabled
            else:
                repo.settings.protected.setdefault(branch, Protection()).required_signatures = enabled
            protection.write_config(repo)

    def trust_signing_key(self, principal: str, public_key_line: str) -> signing.SshKey:
        """Register an ssh signing key (as a user would on the service; also the forge's own web-flow key)."""
        return signing.trust_key(self.store, principal, public_key_line)

    def trust_gpg_key(self, armored_public_key: str) -> signing.GpgKey:
        return signing.trust_gpg_key(self.store, armored_public_key)

    def verified(self, full_name: str, rev: str) -> bool:
        """Whether commit `rev` is signed by a key the forge trusts (GitHub's "Verified" badge)."""
        repo = self.repo(full_name)
        return signing.verified(repo, repo.bare.rev_parse(rev) or rev)

    def commit(self, full_name: str, branch: str, files: Mapping[str, str | bytes], message: str, *,
               start: str | None = None) -> str:
        """Commit `files` on top of `branch` (created from `start`, default the default branch, when
        missing) as a push would, bypassing protection like a web edit; the new sha. Settles auto-merges."""
        with self.store.lock:
            repo = self.repo(full_name)
            old = repo.bare.rev_parse(f"refs/heads/{branch}")
            parent = old or repo.bare.rev_parse(start or repo.bare.head_branch())
            sha = commit_files(repo.bare, files, message=message, parent=parent)
            repo.bare.update_ref(f"refs/heads/{branch}", sha, old or ZERO)
        merging.observe_refs(self.store)
        self.settle()
        return sha

    @property
    def mergeability_delay(self) -> float:
        return self.store.mergeability_delay

    @mergeability_delay.setter
    def mergeability_delay(self, seconds: float) -> None:
        self.store.mergeability_delay = seconds

    @property
    def options(self) -> ForgeOptions:
        """Real behaviours acted out (`updater_sandbox.options`); replace it to turn one on."""
        return self.store.options

    @options.setter
    def options(self, value: ForgeOptions) -> None:
        self.store.options = value

    @property
    def rebase_delay(self) -> float:
        return self.store.rebase_delay

    @rebase_delay.setter
    def rebase_delay(self, seconds: float) -> None:
        self.store.rebase_delay = seconds

    # --- control API: CI, pull requests, faults ------------------------------------------------

    def set_status(self, full_name: str, ref: str, state: str, *, context: str = "ci",
                   description: str | None = None, target_url: str | None = None, creator: str = "sandbox-ci") -> str:
        """Report a CI result for a commit (GitHub words, or GitLab's running/failed/canceled); its sha."""
        with self.store.lock:
            repo = self.repo(full_name)
            sha = repo.bare.rev_parse(ref)
            if sha is None:
                raise KeyError(f"{full_name}: no commit {ref}")
            self.store.add_status(repo, sha, STATUS_FROM_GITLAB.get(state, state), context,
                                  description=description, target_url=target_url, creator=creator)
        self.settle()
        return sha

    def pull(self, full_name: str, number: int) -> Pull:
        return self.repo(full_name).pulls[number]

    def settle(self) -> list[tuple[Repo, Pull]]:
        """Merge whatever auto-merge allows now (also runs in the background and after every write)."""
        return merging.settle_auto_merges(self.store)

    def inject(self, fault: F.Fault) -> F.Fault:
        with self._faults_lock:
            self.faults.append(fault)
        return fault

    def log_for(self, service: str | None = None, *, method: str | None = None,
                path_contains: str = "") -> list[LoggedRequest]:
        return [r for r in list(self.requests) if (service is None or r.service == service)
                and (method is None or r.method == method) and path_contains in r.path]

    # --- internals -----------------------------------------------------------------------------

    def _adopt_existing(self) -> None:
        """Serve bare repositories already under root (`updater sandbox serve --dir` restarts)."""
        for head in sorted(self.root.glob("*/*.git/HEAD")):
            bare = head.parent
            owner, name = bare.parent.name, bare.name.removesuffix(".git")
            repo = self.store.add_repo(owner, name, BareRepo(bare))
            keep_refs_loose(repo.bare)
            protection.install_hook(repo)

    def take_fault(self, service: str, method: str, path: str) -> F.Fault | None:
        """The injected fault this request meets, if any (used by `serving`, one per request)."""
        with self._faults_lock:
            for fault in self.faults:
                if fault.matches(service, method, path):
                    fault.times -= 1
                    if fault.times <= 0:
                        self.faults.remove(fault)
                    return fault
        return None

    def _tick(self) -> None:
        """Auto-merge needs no request to happen: mergeability lag and CI finish on their own."""
        while not self._stopped.wait(0.05):
            try:
                merging.start_pipelines(self.store)
                if any(p.auto_merge for r in list(self.store.repos.values()) for p in list(r.pulls.values())):
                    self.settle()
            except Exception:  # keep ticking; the failure is logged for the test or operator to see
                log.exception("forge: auto-merge tick failed")

    def record(self, entry: LoggedRequest) -> None:
        """Log one answered (or dropped) request and show it to the observers (used by `serving`)."""
        self.requests.append(entry)
        for observer in list(self.observers):
            observer(entry)


def _handler_class(forge: Forge) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "updater-sandbox"

        def setup(self) -> None:
            super().setup()
            # headers and body leave in separate writes: without this, Nagle + delayed ACK add ~40 ms
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, format: str, *args: object) -> None:  # the request log replaces it
            log.debug("forge: " + format, *args)

        def do_GET(self) -> None:
            serving.dispatch(forge, self)

        do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET

    return Handler
