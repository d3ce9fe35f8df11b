"""The forge's own signing key, GitHub's "web-flow": commits the forge makes through its API
(`createCommitOnBranch`) are signed with it, and commit answers carry `verification` for them.

One ssh ed25519 key per forge state (made once with `ssh-keygen`, kept under the store's root in
`.web-flow/`, never served: it is no repository), signed with `git -c gpg.format=ssh commit-tree -S`
and checked with `git verify-commit` against an allowed-signers file naming GitHub's committer
address. `web_flow_key(store)` gives the key to whoever must trust it (the signed-commit protection
rule at merge time). Git and ssh-keygen are the only tools; no network.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

from updater import proc
from updater_sandbox.bare import BareRepo, Person
from updater_sandbox.state import Store, now_iso

COMMITTER = Person("GitHub", "noreply@github.com", "")  # who GitHub names as committer of web commits
_DIR = ".web-flow"
_lock = threading.Lock()
_SIGNATURE = re.compile(r"^gpgsig (.*?)(?=^\S)", re.M | re.S)


def web_flow_key(state: Store) -> tuple[Path, str]:
    """(private key path, public key line) of this forge's web-flow key, made on first use."""
    folder = state.root / _DIR
    private = folder / "web-flow"
    with _lock:
        if not private.exists():
            folder.mkdir(parents=True, exist_ok=True)
            proc.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "web-flow", "-f", str(private)], timeout=30)
            line = private.with_name("web-flow.pub").read_text().strip()
            signers = folder / "allowed_signers"
            signers.write_text(f'{COMMITTER.email} namespaces="git" {line}\n')
        return private, private.with_name("web-flow.pub").read_text().strip()


def allowed_signers(state: Store) -> Path:
    """The allowed-signers file (`gpg.ssh.allowedSignersFile`) that trusts web-flow for GitHub's address."""
    web_flow_key(state)
    return state.root / _DIR / "allowed_signers"


def commit(state: Store, bare: BareRepo, tree: str, *, parent: str, message: str, author: Person) -> str:
    """A commit of `tree` on `parent` by `author`, committed by GitHub and signed with web-flow."""
    private, _ = web_flow_key(state)
    env = {"GIT_AUTHOR_NAME": author.name, "GIT_AUTHOR_EMAIL": author.email,
           "GIT_COMMITTER_NAME": COMMITTER.name, "GIT_COMMITTER_EMAIL": COMMITTER.email}
    done = bare.git("-c", "gpg.format=ssh", "-c", f"user.signingkey={private}", "commit-tree", "-S", tree,
                    "-p", parent, input=message.encode(), env=env)
    return done.out.strip()


def verification(state: Store, bare: BareRepo, sha: str) -> dict[str, Any]:
    """GitHub's `verification` object of a commit: valid for a web-flow signature, `unsigned`
    without one, `unknown_key` for a signature web-flow did not make."""
    raw = bare.git("cat-file", "commit", sha).out
    header, _, body = raw.partition("\n\n")
    found = _SIGNATURE.search(header + "\n.")
    if found is None:
        return {"verified": False, "reason": "unsigned", "signature": None, "payload": None, "verified_at": None}
    signature = "\n".join(line.removeprefix(" ") for line in found.group(1).rstrip("\n").split("\n"))
    payload = _SIGNATURE.sub("", header + "\n.")[:-1].rstrip("\n") + "\n\n" + body
    checked = bare.git("-c", "gpg.format=ssh", "-c", f"gpg.ssh.allowedSignersFile={allowed_signers(state)}",
                       "verify-commit", sha, check=False)
    valid = checked.returncode == 0
    return {"verified": valid, "reason": "valid" if valid else "unknown_key", "signature": signature,
            "payload": payload, "verified_at": now_iso() if valid else None}
