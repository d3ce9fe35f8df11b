"""Shared set-up for the GitHub App tests (push, PR, promote, status, agent): one RSA key pair for
the whole session, a forge where only the app's installation tokens open doors, the real CLI run as
a child process, and the check that no key line or token reached the output."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from updater_sandbox import github_apps
from updater_sandbox.forge import Forge

ROOT = Path(__file__).resolve().parents[1]
APP_ID = 4242


def key_pair() -> tuple[str, str]:
    """(private PEM, public PEM) of a fresh 2048-bit RSA key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


PRIVATE, PUBLIC = key_pair()


def app_only(forge: Forge) -> github_apps.App:
    """Register the app on `forge` and revoke the forge's own token: whatever works from now on
    was done with an installation token."""
    forge.store.logins.pop(forge.token, None)
    return github_apps.register_app(forge.store, APP_ID, PUBLIC)


def run_cli(args: Sequence[str], tmp_path: Path, extra: Mapping[str, str] | None = None,
            timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """`python -m updater ARGS` with no machine git config and no stray forge variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "GITLAB_", "GIT_"))}
    scratch = tmp_path / "cli-tmp"
    scratch.mkdir(exist_ok=True)
    env.update({"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, "TMPDIR": str(scratch),
                "PYTHONPATH": str(ROOT), **(extra or {})})
    return subprocess.run([sys.executable, "-m", "updater", *args], env=env, capture_output=True, text=True,
                          timeout=timeout)


def assert_no_secrets(text: str, forge: Forge) -> None:
    """No line of the private key and no installation token the forge minted is in `text`."""
    for line in PRIVATE.splitlines()[1:-1]:
        assert line not in text
    for token in github_apps.apps_of(forge.store).minted:
        assert token not in text
