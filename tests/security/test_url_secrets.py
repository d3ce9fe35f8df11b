"""Class 6 of issue 11 (bump side): credentials in `--repo` URLs are stripped before any use and
every form of a secret is masked (as written, percent-decoded, stripped, each line)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.gitrepos import make_remote
from tests.security.helpers import DEPLOYMENT, run_cli
from updater.git.credentials import resolve_credentials, split_url_credentials
from updater.secrets import mask, register_secret

SECRET = "s3cr3t-Pa55word"


@pytest.mark.parametrize(("url", "clean"), [
    (f"ssh://git:{SECRET}@gitlab.example:2222/acme/gitops.git", "ssh://git@gitlab.example:2222/acme/gitops.git"),
    (f"git+ssh://git:{SECRET}@host/acme.git", "git+ssh://git@host/acme.git"),
    (f"https://bot:{SECRET}@github.example/acme/gitops.git", "https://github.example/acme/gitops.git"),
    ("http://bot:s3cr3t%2fPa55%40word@host:8080/x.git", "http://host:8080/x.git"),
    (f"https://bot:{SECRET}@[::1]:8443/x.git", "https://[::1]:8443/x.git"),
])
def test_passwords_never_stay_in_the_url(url: str, clean: str) -> None:
    assert split_url_credentials(url)[0] == clean
    url_after, credentials = resolve_credentials(url, {})
    assert url_after == clean and credentials.token is not None
    assert "***" in mask(url) and "Pa55" not in mask(url)


def test_an_ssh_password_goes_through_askpass(tmp_path: Path) -> None:
    from updater.git.credentials import git_environment

    _, credentials = resolve_credentials(f"ssh://git:{SECRET}@host/x.git", {})
    env = git_environment(credentials, tmp_path / "auth")
    assert env["SSH_ASKPASS"] == env["GIT_ASKPASS"] and env["UPDATER_GIT_PASSWORD"] == SECRET


@pytest.mark.parametrize(("registered", "printed"), [
    (" tok-abcdef123\n", "tok-abcdef123"),  # stripped: the form git and the API actually use
    ("line-one-abcd\nline-two-efgh\n", "line-two-efgh"),  # each line of a multi-line token
    ("tok%2fabc%40def", "tok/abc@def"),  # percent-decoded
    ("tok%2fabc%40def", "tok%2Fabc%40def"),  # re-encoded with upper-case hex
    ("tok/abc@def", "tok%2Fabc%40def"),
])
def test_every_form_of_a_secret_is_masked(registered: str, printed: str) -> None:
    register_secret(registered)
    assert mask(f"before {printed} after") == "before *** after"


def test_an_ssh_password_is_never_printed(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_SSH_COMMAND", "ssh -o BatchMode=yes -o ConnectTimeout=2")
    run = run_cli(capsys, "bump", "--repo", f"ssh://git:{SECRET}@127.0.0.1:1/acme.git", "--mode", "push",
                  "--retries", "1", "--image", "ghcr.io/acme/api:1.4.2")
    assert run.code != 0
    assert SECRET not in run.err + run.out and "127.0.0.1" in run.err


def test_a_percent_encoded_password_is_never_printed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    remote = make_remote(tmp_path, {"deploy.yaml": DEPLOYMENT})
    # lower-case hex: not the spelling quote() would produce from the decoded value
    url = f"file://bot:tok%2fen%2bvalue-1@{remote}"
    run = run_cli(capsys, "bump", "--repo", url, "--mode", "push", "--retries", "1", "--target", "api",
                  "--image", "ghcr.io/acme/api:1.4.2")
    assert run.code == 2, run.err
    assert "tok%2fen%2bvalue-1" not in run.err and "tok/en+value-1" not in run.err and "***" in run.err
