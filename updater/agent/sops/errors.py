"""The named errors of sops decryption. Messages name the file and what to do, never a plaintext value.

All are `ValidationFailed` (exit code 5, like a render that fails): a file that cannot be decrypted
stops its app's pass before anything is applied or pruned.
"""

from __future__ import annotations

from updater.errors import BadInput, ValidationFailed


class SopsError(ValidationFailed):
    """A sops-encrypted manifest could not be decrypted; nothing from its app is applied."""


class NoMatchingIdentity(SopsError):
    """None of the agent's age identities opens the file's data key (or the agent has none)."""


class MacMismatch(SopsError):
    """The decrypted values do not match the file's MAC: tampered with, or edited without sops."""


class MalformedSopsFile(SopsError):
    """The `sops` metadata or an `ENC[...]` value is not what sops writes."""


class UnsupportedSopsFile(SopsError):
    """Valid sops, but using a feature the agent does not implement (said so rather than guessed)."""


class BadIdentity(BadInput):
    """An age identity given to the agent (file or variable) cannot be parsed."""
