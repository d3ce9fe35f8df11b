"""Classify a failed git command from its stderr into updater's named errors: the one classifier of
both git paths, `updater bump` (`updater.git.workspace`) and the agent (`updater.agent.source`).

git reports transport problems only as text (exit status 128 for nearly everything), so this is
the one place that reads it. Order matters: an HTTP 401/403 is about credentials, 5xx / dropped
connections / timeouts are transient (retried), a 404 or "not found" is bad input.

**An error none of the markers names is permanent** (`RemoteError`, exit 7, never retried). The
transient markers cover every way git reports a network or server hiccup; what is left is mostly
local or configuration trouble (a stale `index.lock`, a corrupt or full repository, a hook, an
unsupported option) that a retry reproduces, so retrying it only spends the bump's retry budget
(minutes of backoff) before failing with the same line. Failing at once shows git's own line while
it is fresh. The agent loses nothing by it: its poll loop already runs the next pass on the next
interval, whatever the class. (The agent used to call unknown errors transient, bump permanent;
a new transient case belongs in TRANSIENT_MARKERS, with the stderr that showed it in the tests.)

GitPython runs git with LC_ALL=C, and the agent's git runs in the C locale too, so the English text
is stable. Pure: nothing here runs git.
"""

from __future__ import annotations

from enum import Enum

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

BUMP_AUTH_HINT = "check the token and that it may read and push this repository"

# GitLab's git-over-HTTP refusals (the `remote:` text git prints before the 403 / 404), each with what
# fixes it. They are GitLab's `auth_upload`, `auth_download`, `push_code` and project-not-found texts.
_GITLAB_PUSH_SCOPE = ("push refused: the token lacks the write_repository scope (read_repository and read_api "
                      "only read); use a project access token with scopes api and write_repository and role Developer")
_GITLAB_JOB_PUSH = ("push refused for CI_JOB_TOKEN: enable 'Allow Git push requests to the repository' in the "
                    "project's Settings > CI/CD > Job token permissions (GitLab 17.2 or later), or use a project "
                    "access token with write_repository")
_GITLAB_REFUSALS = (
    ("you are not allowed to download code", "clone refused: the token has no repository scope; give it "
     "read_repository (write_repository to push) or use a project access token with api and write_repository"),
    ("you are not allowed to push code to this project", "push refused: the token's user (a project or group "
     "access token: its bot) lacks the Developer role on the project; give it Developer or Maintainer"),
    ("you don't have permission to view it", "GitLab shows no such project to this token: check --repo, and that "
     "the token reaches the project (a project access token reaches only its own project, a group access "
     "token only the projects of its group, CI_JOB_TOKEN only its pipeline's project)"),
)
BUMP_INPUT_HINT = "check --repo and --branch"


class Failure(Enum):
    AUTH = "auth"  # credentials missing, wrong or lacking a permission
    TRANSIENT = "transient"  # worth retrying: the network or the server
    BAD_INPUT = "bad input"  # no such repository, branch or ref
    UNKNOWN = "unknown"  # none of the above: permanent (see the module docstring)


def kind_of(stderr: str) -> Failure:
    """Which kind of failure git's `stderr` describes."""
    text = stderr.lower()
    if any(m in text for m in AUTH_MARKERS):
        return Failure.AUTH
    if any(m in text for m in TRANSIENT_MARKERS):
        return Failure.TRANSIENT
    if any(m in text for m in BAD_INPUT_MARKERS):
        return Failure.BAD_INPUT
    return Failure.UNKNOWN


def summary_line(stderr: str) -> str:
    """The most telling line of git's stderr: the last `fatal:`/`error:` line, else the last line."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip() and not line.startswith("hint:")]
    for line in reversed(lines):
        if line.startswith(("fatal:", "error:")):
            return line.partition(":")[2].strip()
    return lines[-1] if lines else "no output"


def gitlab_refusal(stderr: str, *, job_token: bool = False) -> str | None:
    """What a GitLab refusal in `stderr` means and what fixes it, or None when it is not one."""
    text = stderr.lower()
    if "you are not allowed to upload code" in text:
        return _GITLAB_JOB_PUSH if job_token else _GITLAB_PUSH_SCOPE
    return next((hint for marker, hint in _GITLAB_REFUSALS if marker in text), None)


def classify(stderr: str, *, action: str, url: str, auth: str = "no token", auth_hint: str = BUMP_AUTH_HINT,
             input_hint: str = BUMP_INPUT_HINT, job_token: bool = False) -> UpdaterError:
    """The named error for `action` (e.g. "clone of") on `url` failing with `stderr`.

    `auth` describes the credentials used ("the token in $GITHUB_TOKEN") so an auth failure names
    the variable to fix; the hints say what to do, in the words of the caller's flags. A GitLab
    refusal of the token (scope, role, reach, the job token's push setting) is an auth failure that
    says which (`job_token`: the credentials are GitLab's CI_JOB_TOKEN).
    """
    reason = summary_line(stderr)
    where = f"{action} {url}"
    if (refusal := gitlab_refusal(stderr, job_token=job_token)) is not None:
        return AuthFailed(mask(f"{where} failed: {refusal} (using {auth}; git said: {reason})"))
    kind = kind_of(stderr)
    if kind is Failure.AUTH:
        return AuthFailed(mask(f"{where} failed: authentication refused using {auth} ({reason}); {auth_hint}"))
    if kind is Failure.TRANSIENT:
        return TransientRemoteError(mask(f"{where} failed: {reason}"))
    if kind is Failure.BAD_INPUT:
        return BadInput(mask(f"{where} failed: {reason}; {input_hint}"))
    return RemoteError(mask(f"{where} failed: {reason}"))
