"""Signing keys for tests, made with the real tools: an ed25519 ssh key (`ssh-keygen`) and an
OpenPGP key (`gpg --quick-gen-key` in a throw-away GNUPGHOME whose agent is stopped again).
Also git config entries that sign a commit with one, for tests that push by hand."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class SshPair:
    private: str  # OpenSSH private key text (what goes in $UPDATER_SIGNING_KEY)
    public: str  # "ssh-ed25519 AAAA... comment"
    path: Path  # the private key file (0600)


@dataclass(frozen=True)
class GpgPair:
    secret: str  # armored secret key (what goes in $UPDATER_SIGNING_KEY)
    public: str  # armored public key (what the forge is given)
    fingerprint: str


def ssh_pair(directory: Path, name: str = "signing") -> SshPair:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"{name}@test", "-f", str(path)], check=True)
    return SshPair(path.read_text(), path.with_suffix(".pub").read_text().strip(), path)


def gpg_pair(directory: Path, email: str = "bot@example.com") -> GpgPair:
    # gpg-agent's socket lives in the home (no /run/user here): a pytest-xdist tmp path is too long
    # for a socket path (108 bytes), so the maker's home is a short directory, removed afterwards
    directory.mkdir(parents=True, exist_ok=True)
    short = tempfile.mkdtemp(prefix="gpg-", dir="/tmp")
    try:
        return _make_gpg_pair(Path(short), email)
    finally:
        shutil.rmtree(short, ignore_errors=True)


def _make_gpg_pair(home: Path, email: str) -> GpgPair:
    home.chmod(0o700)
    base = ["gpg", "--homedir", str(home), "--batch", "--no-tty"]
    try:
        subprocess.run([*base, "--pinentry-mode", "loopback", "--passphrase", "", "--quick-gen-key",
                        f"Updater Bot <{email}>", "ed25519", "sign", "never"], check=True, capture_output=True)
        secret = subprocess.run([*base, "--armor", "--pinentry-mode", "loopback", "--passphrase", "",
                                 "--export-secret-keys", email], check=True, capture_output=True, text=True).stdout
        public = subprocess.run([*base, "--armor", "--export", email], check=True, capture_output=True, text=True).stdout
        listing = subprocess.run([*base, "--with-colons", "--list-keys", email], check=True, capture_output=True,
                                 text=True).stdout
    finally:
        subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "gpg-agent"], check=False, capture_output=True)
    fingerprint = next(line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr:"))
    return GpgPair(secret, public, fingerprint)


def ssh_signing_config(key: Path) -> list[str]:
    """`git -c ...` arguments that sign commits with the ssh key file `key`."""
    return ["-c", "gpg.format=ssh", "-c", f"user.signingkey={key}", "-c", "commit.gpgsign=true"]
