"""Commit signatures on the local forge: the signing keys users registered (and any key the forge
itself signs with, such as GitHub's web-flow key), kept where `git verify-commit` in the
pre-receive hook reads them.

Two real trust stores under `<forge root>/.signing/`: an ssh `allowed_signers` file
(`gpg.ssh.allowedSignersFile`: `<principal> namespaces="git" <key>` lines) and a GnuPG home
(`GNUPGHOME`) holding the registered public keys. They are rewritten atomically / imported under a
lock, so pushes running while a key is added see either the old or the new set. Boundary: key
storage and verification only; the REST routes live in `signing_api`, the enforcement in the hook
(`updater_sandbox.protection`). The forge root layout is `<root>/<owner>/<name>.git`, so a
repository finds the store from its own path (`keys_dir`).
"""

from __future__ import annotations

import os
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path

from updater_sandbox.state import Repo, Store

DIR = ".signing"
ALLOWED_SIGNERS = "allowed_signers"
GNUPG = "gnupg"
_GIT_ENV = {"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}


class InvalidKey(ValueError):
    """The text is not a public key of the kind asked for (the APIs answer 422)."""


@dataclass(frozen=True)
class SshKey:
    id: int
    principal: str  # who the key signs for (an email, or the forge's own name)
    key: str  # "ssh-ed25519 AAAA..." without a comment
    title: str
    created_at: str


@dataclass(frozen=True)
class GpgKey:
    id: int
    fingerprint: str
    key_id: str  # the last 16 hex digits, as GitHub shows it
    emails: tuple[str, ...]
    armored: str
    created_at: str
    can_sign: bool = True


@dataclass
class Keys:
    """The keys one forge trusts for commit signatures."""

    root: Path
    ssh: list[SshKey] = field(default_factory=list)
    gpg: list[GpgKey] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def allowed_signers(self) -> Path:
        return self.root / ALLOWED_SIGNERS

    @property
    def gnupghome(self) -> Path:
        return self.root / GNUPG


def keys_dir(repo: Repo) -> Path:
    """Where the forge holding `repo` keeps its trusted keys (the hook is given this path)."""
    return repo.bare.path.parent.parent / DIR


def keys_of(store: Store) -> Keys:
    keys: Keys | None = getattr(store, "signing_keys", None)
    if keys is None:
        keys = Keys(store.root / DIR)
        keys.root.mkdir(mode=0o700, exist_ok=True)
        keys.gnupghome.mkdir(mode=0o700, exist_ok=True)
        if not keys.allowed_signers.exists():
            keys.allowed_signers.write_text("")  # git refuses to verify ssh signatures without the file
        store.signing_keys = keys  # type: ignore[attr-defined]  # one store of keys per forge
    return keys


def parse_ssh_key(text: str) -> str:
    """`type base64` of an OpenSSH public key line (the comment dropped), or InvalidKey."""
    parts = text.strip().split()
    if len(parts) < 2 or not (parts[0].startswith(("ssh-", "ecdsa-", "sk-"))):
        raise InvalidKey("Key is invalid. You must supply a key in OpenSSH public key format")
    probe = subprocess.run(["ssh-keygen", "-l", "-f", "-"], input=f"{parts[0]} {parts[1]}\n", text=True,
                           capture_output=True, check=False)
    if probe.returncode != 0:
        raise InvalidKey("Key is invalid. You must supply a key in OpenSSH public key format")
    return f"{parts[0]} {parts[1]}"


def trust_key(store: Store, principal: str, public_key_line: str, *, title: str = "") -> SshKey:
    """Trust an ssh public key for commit signatures by `principal` (a user's email, or the forge's
    own signer such as GitHub's web-flow). Idempotent for the same key."""
    key = parse_ssh_key(public_key_line)
    keys = keys_of(store)
    with keys.lock:
        for existing in keys.ssh:
            if existing.key == key:
                return existing
        from updater_sandbox.state import now_iso

        entry = SshKey(store.next_id(), principal, key, title or principal, now_iso())
        keys.ssh.append(entry)
        text = "".join(f'{k.principal} namespaces="git" {k.key}\n' for k in keys.ssh)
        tmp = keys.allowed_signers.with_name(ALLOWED_SIGNERS + ".tmp")
        tmp.write_text(text)
        tmp.replace(keys.allowed_signers)
    return entry


def _gpg(keys: Keys, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    # --no-autostart: public keys need no agent, and an agent would outlive the forge
    return subprocess.run(["gpg", "--homedir", str(keys.gnupghome), "--batch", "--no-autostart", "--no-tty", *args],
                          input=input, text=True, capture_output=True, check=False)


def trust_gpg_key(store: Store, armored: str) -> GpgKey:
    """Import an armored OpenPGP public key into the forge's keyring; InvalidKey if it holds none
    (or holds secret material: a forge is never given a private key)."""
    if "PRIVATE KEY BLOCK" in armored:
        raise InvalidKey("We got an error doing that.")  # GitHub's answer to a pasted secret key
    keys = keys_of(store)
    shown = _gpg(keys, "--with-colons", "--import-options", "show-only", "--import", input=armored)
    fingerprint = next((line.split(":")[9] for line in shown.stdout.splitlines() if line.startswith("fpr:")), "")
    if shown.returncode != 0 or not fingerprint:
        raise InvalidKey("We got an error doing that.")
    emails = tuple(uid.split("<", 1)[1].rstrip(">") for line in shown.stdout.splitlines()
                   if line.startswith("uid:") and "<" in (uid := line.split(":")[9]))
    with keys.lock:
        for existing in keys.gpg:
            if existing.fingerprint == fingerprint:
                return existing
        if _gpg(keys, "--import", input=armored).returncode != 0:
            raise InvalidKey("We got an error doing that.")
        from updater_sandbox.state import now_iso

        entry = GpgKey(store.next_id(), fingerprint, fingerprint[-16:], emails, armored, now_iso())
        keys.gpg.append(entry)
    return entry


_verified: set[tuple[str, str]] = set()  # (repository path, sha) found verified: keys are only ever added


def all_verified(repo: Repo, shas: list[str]) -> bool:
    """Whether every commit in `shas` verifies (merges ask often: positive answers are remembered)."""
    for sha in shas:
        key = (str(repo.bare.path), sha)
        if key not in _verified:
            if not verified(repo, sha):
                return False
            _verified.add(key)
    return True


def verified(repo: Repo, sha: str) -> bool:
    """Whether `sha` carries a signature by a key this forge trusts (what GitHub shows as Verified)."""
    root = keys_dir(repo)
    return _verify(root / ALLOWED_SIGNERS, root / GNUPG, repo.bare.path, sha)


def verified_in(keys: Keys, bare: Path, sha: str) -> bool:
    """`verified`, with the store's keys at hand (the REST answer's `verification`)."""
    return _verify(keys.allowed_signers, keys.gnupghome, bare, sha)


def _verify(allowed_signers: Path, gnupghome: Path, bare: Path, sha: str) -> bool:
    env = {**os.environ, **_GIT_ENV, "GNUPGHOME": str(gnupghome)}
    done = subprocess.run(["git", "-c", f"gpg.ssh.allowedSignersFile={allowed_signers}", "verify-commit", sha],
                          cwd=bare, env=env, capture_output=True, check=False)
    return done.returncode == 0
