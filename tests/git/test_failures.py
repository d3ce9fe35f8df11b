"""Classifying git's stderr (texts captured from git 2.39 against file:// and http-backend)."""

from __future__ import annotations

import pytest

from updater.errors import AuthFailed, BadInput, RemoteError, TransientRemoteError
from updater.git.failures import Failure, classify, kind_of, summary_line
from updater.secrets import register_secret

URL = "http://127.0.0.1:4/acme/gitops.git"


@pytest.mark.parametrize(("stderr", "kind"), [
    ("fatal: Authentication failed for 'http://127.0.0.1:4/acme/gitops.git/'", AuthFailed),
    ("fatal: could not read Username for 'https://github.com': terminal prompts disabled", AuthFailed),
    ("fatal: unable to access 'http://h/x.git/': The requested URL returned error: 403", AuthFailed),
    ("fatal: unable to access 'http://h/x.git/': The requested URL returned error: 500", TransientRemoteError),
    ("error: RPC failed; curl 52 Empty reply from server\nfatal: the remote end hung up unexpectedly", TransientRemoteError),
    ("fatal: unable to access 'http://127.0.0.1:1/x.git/': Failed to connect to 127.0.0.1 port 1", TransientRemoteError),
    ('Timeout: the command "git push" did not complete in 5 secs.', TransientRemoteError),
    ("fatal: repository 'http://h/acme/nope.git/' not found", BadInput),
    ("warning: Could not find remote branch nope to clone.\nfatal: Remote branch nope not found in upstream origin", BadInput),
    ("fatal: '/nonexist/x.git' does not appear to be a git repository", BadInput),
    ("fatal: something nobody expected", RemoteError),
])
def test_classification(stderr: str, kind: type) -> None:
    error = classify(stderr, action="clone of", url=URL, auth="the token in $GITHUB_TOKEN")
    assert type(error) is kind
    assert str(error).startswith(f"clone of {URL} failed")
    assert "\n" not in str(error)


def test_auth_failure_names_the_variable_to_fix() -> None:
    error = classify("fatal: Authentication failed for 'x'", action="push to", url=URL, auth="the token in $GITLAB_TOKEN")
    assert "$GITLAB_TOKEN" in str(error)


def test_messages_are_masked() -> None:
    register_secret("tok-abcdef-123")
    error = classify("fatal: weird tok-abcdef-123", action="fetch from", url=URL)
    assert "tok-abcdef-123" not in str(error) and "***" in str(error)


def test_summary_prefers_the_last_fatal_line_and_skips_hints() -> None:
    assert summary_line("Cloning...\nfatal: first\nerror: second\nhint: do this\n") == "second"
    assert summary_line("") == "no output"


@pytest.mark.parametrize(("stderr", "kind"), [
    ("fatal: unable to access 'http://h/x.git/': The requested URL returned error: 401", Failure.AUTH),
    ("fatal: unable to access 'http://h/x.git/': The requested URL returned error: 503", Failure.TRANSIENT),
    ("fatal: couldn't find remote ref refs/heads/nope", Failure.BAD_INPUT),
    ("fatal: Unable to create '/c/.git/index.lock': File exists.", Failure.UNKNOWN),
    ("fatal: not a git repository (or any of the parent directories): .git", Failure.UNKNOWN),
    ("", Failure.UNKNOWN),
])
def test_kind_of(stderr: str, kind: Failure) -> None:
    assert kind_of(stderr) is kind


@pytest.mark.parametrize("stderr", [
    "fatal: Unable to create '/c/.git/index.lock': File exists.",
    "fatal: not a git repository (or any of the parent directories): .git",
    "error: object file .git/objects/ab/cdef is empty\nfatal: loose object abcdef is corrupt",
])
def test_an_unknown_failure_is_permanent_not_retried(stderr: str) -> None:
    # the one decision both git paths share (see the module docstring): never transient
    error = classify(stderr, action="fetch from", url=URL)
    assert type(error) is RemoteError and error.transient is False


def test_callers_word_their_own_hints() -> None:
    error = classify("fatal: Authentication failed for 'x'", action="git fetch of", url=URL, auth="the token",
                     auth_hint="check the token (--token-env) and that it may read the repository")
    assert str(error).endswith("check the token (--token-env) and that it may read the repository")
    missing = classify("fatal: repository 'x' not found", action="git fetch of", url=URL, input_hint="check --repo")
    assert type(missing) is BadInput and str(missing).endswith("; check --repo")


GITLAB_UPLOAD = ("remote: You are not allowed to upload code.\n"
                 "fatal: unable to access 'http://h/acme/gitops.git/': The requested URL returned error: 403")
GITLAB_HIDDEN = ("remote: The project you were looking for could not be found or you don't have permission to view it.\n"
                 "fatal: repository 'http://h/other/gitops.git/' not found")


def test_gitlabs_refusals_say_which_scope_or_setting_the_token_needs() -> None:
    job = classify(GITLAB_UPLOAD, action="push to", url=URL, auth="the token in $CI_JOB_TOKEN", job_token=True)
    assert isinstance(job, AuthFailed) and "enable 'Allow Git push requests to the repository'" in str(job)
    scoped = classify(GITLAB_UPLOAD, action="push to", url=URL, auth="the token in $GITLAB_TOKEN")
    assert "lacks the write_repository scope" in str(scoped) and "$GITLAB_TOKEN" in str(scoped)
    hidden = classify(GITLAB_HIDDEN, action="clone of", url=URL, auth="the token in $GITLAB_TOKEN")
    assert isinstance(hidden, AuthFailed) and "reaches the project" in str(hidden)  # not "bad input": GitLab hides it
