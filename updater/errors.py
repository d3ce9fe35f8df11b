"""The few named errors updater raises, and the exit code each one maps to.

Only the CLI edge (`updater.cli`) catches these. Everything below raises them with the cause
attached (`raise X(...) from err`) and a one-line message that names the file, flag or remote and
says what to do. Messages must already be free of secrets (see `updater.secrets.mask`).

`transient` marks errors a retry policy may retry (push races, 5xx, dropped connections); every
other error is permanent and fails the run at once.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Documented in README.md ("Exit codes"). Never renumber: pipelines branch on these."""

    OK = 0  # bumped, already current, nothing to do, or in sync
    UNEXPECTED = 1  # a bug: printed with a traceback
    BAD_INPUT = 2  # invalid flag, image reference, config file or path (argparse also uses 2)
    NOT_FOUND = 3  # no reference to the image under the given paths (see --allow-missing)
    REFUSED = 4  # refused by policy: downgrade, protected branch, newer version already proposed
    INVALID_RESULT = 5  # the edit would break the manifests (kustomize build fails after it)
    AUTH = 6  # token missing, rejected, or lacking a permission
    REMOTE = 7  # git remote or forge API still failing after the retry budget
    OUT_OF_SYNC = 8  # agent --once --dry-run: the cluster differs from the repository
    CHANGED_UNDER_US = 9  # a file changed between plan and write (another process); nothing written


class UpdaterError(Exception):
    """Base of every error updater expects; its message is printed as one line."""

    exit_code: ExitCode = ExitCode.UNEXPECTED
    transient: bool = False


class BadInput(UpdaterError):
    """The user asked for something that cannot work: fix the flag, file or config."""

    exit_code = ExitCode.BAD_INPUT


class NoReferenceFound(UpdaterError):
    """Nothing under the searched paths refers to the image."""

    exit_code = ExitCode.NOT_FOUND


class PolicyRefused(UpdaterError):
    """The change is possible but a rule forbids it (downgrade, protected branch...)."""

    exit_code = ExitCode.REFUSED


class ValidationFailed(UpdaterError):
    """The edited manifests no longer render; nothing was written or pushed."""

    exit_code = ExitCode.INVALID_RESULT


class AuthFailed(UpdaterError):
    """Credentials are missing, wrong, or lack a permission; the message names the variable."""

    exit_code = ExitCode.AUTH


class RemoteError(UpdaterError):
    """A git remote or forge API failed. Subclasses set `transient` for the retry policies."""

    exit_code = ExitCode.REMOTE


class TransientRemoteError(RemoteError):
    """Worth retrying: 5xx, timeouts, dropped connections, rate limits."""

    transient = True


class PushRejected(TransientRemoteError):
    """The branch moved under us (non-fast-forward, stale info, lock): fetch, re-apply, retry."""


class ChangedUnderUs(UpdaterError):
    """A file updater planned to edit changed before it was written; nothing was written. Running
    again plans from the new content."""

    exit_code = ExitCode.CHANGED_UNDER_US


class OutOfSync(UpdaterError):
    """The cluster differs from the repository (agent --once --dry-run used as a check)."""

    exit_code = ExitCode.OUT_OF_SYNC
