"""The registry's named errors, as kinds of updater's own (so the CLI maps them to exit codes).

Messages name the registry host and repository and say what to do; they never hold a credential
or a token (those are registered with `updater.secrets` before the first request anyway).
"""

from __future__ import annotations

from updater.errors import AuthFailed, RemoteError, TransientRemoteError


class RegistryUnavailable(TransientRemoteError):
    """The registry could not be reached or kept failing (connection refused, timeout, 5xx): exit 7."""


class RegistryRateLimited(TransientRemoteError):
    """The registry still answered 429 after the bounded waits: exit 7."""


class RegistryAuthFailed(AuthFailed):
    """401/403 after offering the credentials we have (or none): exit 6, naming where they come from."""


class RegistryNotFound(RemoteError):
    """The repository, tag or manifest does not exist in the registry: exit 7."""


class RegistryResponseInvalid(RemoteError):
    """The registry answered something we refuse to use: too large, not JSON, a wrong digest,
    a link to another host: exit 7."""
