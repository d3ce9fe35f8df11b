"""The forge's own signing key, GitHub's "web-flow": commits the forge makes through its API
(`createCommitOnBranch`) and GitHub's pull-request merges are signed with it, and commit answers
carry `verification`.

One ssh ed25519 key per forge state (made once with `ssh-keygen`, kept under the store's root in
`.web-flow/`, never served: it is no repository), signed with `git -c gpg.format=ssh commit-tree -S`.
It is trusted in the forge's signing store (`updater_sandbox.signing`) for GitHub's committer
address, beside the keys users register, so one `git verify-commit` answers for both: the
signed-commit rule's hook, a pull request's "Commits must have verified signatures" and REST's
`verification`. Git and ssh-keygen are the only tools; no network.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

from updater import proc
from updater_sandbox import signing
from updater_sandbox.bare import BareRepo, Person
from updater_sandbox.state import Store, now_iso

COMMITTER = Person("GitHub", "noreply@github.com", "")  # who GitHub names as committer of web commits
_DIR = ".web-flow"
_lock = threading.Lock()
_SIGNATURE = re.compile(r"^gpgsig (.*?)(?=^\S)", re.M | re.S)


def web_flow_key(state: Store) -> tuple[Path, str]:
    """(private key path, public key line) of this forge's web-flow key, made on first use and
    trusted in the forge's signing store."""
    folder = state.root / _DIR
    private = folder / "web-flow"
    with _lock:
        if not private.exists():
            folder.mkdir(parents=True, exist_ok=True)
            proc.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "web-flow", "-f", str(private)], timeout=30)
        line = private.with_name("web-flow.pub").read_text().strip()
        if not getattr(state, "web_flow_trusted", False):
            signing.trust_key(state, COMMITTER.email, line, title="web-flow")
            state.web_flow_trusted = True  # type: ignore[attr-defined]  # once per forge state
        return private, line


def commit(state: Store, bare: BareRepo, tree: str, *, parent: str, message: str, author: Person) -> str:
    """A commit of `tree` on `parent` by `author`, committed by GitHub and signed with web-flow."""
    return bare.commit_tree(tree, [parent], message, author=author, committer=COMMITTER,
                            signing_key=web_flow_key(state)[0])


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
    web_flow_key(state)  # trusted before the answer is computed
    valid = signing.verified_in(signing.keys_of(state), bare.path, sha)
    return {"verified": valid, "reason": "valid" if valid else "unknown_key", "signature": signature,
            "payload": payload, "verified_at": now_iso() if valid else None}
