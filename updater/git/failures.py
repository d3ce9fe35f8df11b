"""Classify a failed git command from its stderr into updater's named errors.

git reports transport problems only as text (exit status 128 for nearly everything), so this is
the one place that reads it. Order matters: an HTTP 401/403 is about credentials, a 404 or
"not found" is bad input, 5xx / dropped connections / timeouts are transient (retried), anything
else is a permanent remote error. GitPython runs git with LC_ALL=C, so the English text is stable.
Pure: nothing here runs git.
"""

from __future__ import annotations

from updater.errors import AuthFailed, BadInput, RemoteError, TransientRemoteError, UpdaterError
from updater.secrets import mask

AUTH_MARKERS = (
    "authentication failed", "could not read username", "could not read password",
    "terminal prompts disabled", "returned error: 401", "returned error: 403", "access denied",
    "permission denied (publickey", "permission to", "invalid username or password",
)
BAD_INPUT_MARKERS = (
    "not found", "does not appear to be a git repository", "does not exist", "returned error: 404",
    "couldn't find remote ref", "not a valid", "invalid refspec",
)
TRANSIENT_MARKERS = (
    "returned error: 5", "returned error: 429", "rpc failed", "remote end hung up", "connection reset",
    "empty reply", "timed out", "timeout", "could not resolve host", "failed to connect",
    "couldn't connect", "unexpected disconnect", "early eof", "ssl", "gnutls", "operation too slow",
    "broken pipe", "connection refused", "transfer closed", "http/2 stream",
)


def summary_line(stderr: str) -> str:
    """The most telling line of git's stderr: the last `fatal:`/`error:` line, else the last line."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip() and not line.startswith("hint:")]
    for line in reversed(lines):
        if line.startswith(("fatal:", "error:")):
            return line.partition(":")[2].strip()
    return lines[-1] if lines else "no output"


def classify(stderr: str, *, action: str, url: str, auth: str = "no token") -> UpdaterError:
    """The named error for `action` (e.g. "clone of") on `url` failing with `stderr`.

    `auth` describes the credentials used ("the token in $GITHUB_TOKEN") so an auth failure names
    the variable to fix.
    """
    text = stderr.lower()
    reason = summary_line(stderr)
    where = f"{action} {url}"
    if any(m in text for m in AUTH_MARKERS):
        return AuthFailed(mask(f"{where} failed: authentication refused using {auth} ({reason}); "
                               "check the token and that it may read and push this repository"))
    if any(m in text for m in TRANSIENT_MARKERS):
        return TransientRemoteError(mask(f"{where} failed: {reason}"))
    if any(m in text for m in BAD_INPUT_MARKERS):
        return BadInput(mask(f"{where} failed: {reason}; check --repo and --branch"))
    return RemoteError(mask(f"{where} failed: {reason}"))
