from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from updater.errors import AuthFailed
from updater.git.credentials import Credentials, git_environment, resolve_credentials, split_url_credentials
from updater.secrets import mask


def test_token_embedded_in_url_is_moved_out_and_masked() -> None:
    url, creds = resolve_credentials("https://bot:tok-in-url-9876@git.example.com:8443/acme/gitops.git", {})
    assert url == "https://git.example.com:8443/acme/gitops.git"
    assert (creds.token, creds.username, creds.source) == ("tok-in-url-9876", "bot", "the --repo URL")
    assert mask("x tok-in-url-9876 y") == "x *** y"


def test_github_token_first_except_on_gitlab_hosts() -> None:
    env = {"GITHUB_TOKEN": "gh-token-1111", "GITLAB_TOKEN": "gl-token-2222"}
    _, github = resolve_credentials("https://github.com/acme/gitops.git", env)
    _, gitlab = resolve_credentials("https://gitlab.example.com/acme/gitops.git", env)
    assert (github.token, github.username, github.source) == ("gh-token-1111", "x-access-token", "$GITHUB_TOKEN")
    assert (gitlab.token, gitlab.username, gitlab.source) == ("gl-token-2222", "oauth2", "$GITLAB_TOKEN")
    assert mask("gh-token-1111 gl-token-2222") == "*** ***"  # both masked, whichever is used


def test_token_env_names_the_variable() -> None:
    _, creds = resolve_credentials("https://h/x.git", {"DEPLOY_TOKEN": "deploy-5555", "GITHUB_TOKEN": "gh-1111x"},
                                   token_env="DEPLOY_TOKEN")
    assert (creds.token, creds.source) == ("deploy-5555", "$DEPLOY_TOKEN")


def test_token_env_unset_is_an_auth_error_naming_it() -> None:
    with pytest.raises(AuthFailed, match=r"--token-env DEPLOY_TOKEN: \$DEPLOY_TOKEN is not set"):
        resolve_credentials("https://h/x.git", {}, token_env="DEPLOY_TOKEN")


def test_ssh_and_paths_are_untouched() -> None:
    assert split_url_credentials("git@github.com:acme/gitops.git") == ("git@github.com:acme/gitops.git", None, None)
    assert split_url_credentials("ssh://git@host/x.git") == ("ssh://git@host/x.git", "git", None)
    assert split_url_credentials("/srv/x.git") == ("/srv/x.git", None, None)
    _, creds = resolve_credentials("git@github.com:acme/gitops.git", {})
    assert creds.token is None and creds.describe() == "no token"


def test_repr_never_shows_the_token() -> None:
    assert "hidden-777" not in repr(Credentials("hidden-777"))


def test_askpass_answers_from_the_environment_only(tmp_path: Path) -> None:
    env = git_environment(Credentials("tok-askpass-31", "x-access-token", "$GITHUB_TOKEN"), tmp_path / "auth")
    script = Path(env["GIT_ASKPASS"])
    assert "tok-askpass-31" not in script.read_text()  # the file holds no secret
    assert env["GIT_TERMINAL_PROMPT"] == "0"
    ask = lambda prompt: subprocess.run([str(script), prompt], env=env, capture_output=True, text=True).stdout  # noqa: E731
    assert ask("Username for 'http://h': ") == "x-access-token\n"
    assert ask("Password for 'http://x-access-token@h': ") == "tok-askpass-31\n"


def test_no_token_means_no_askpass(tmp_path: Path) -> None:
    assert git_environment(Credentials(None), tmp_path / "auth") == {"GIT_TERMINAL_PROMPT": "0"}


def test_the_basic_header_is_sent_pre_emptively_only_to_the_repository_host(tmp_path: Path) -> None:
    import base64
    import os
    import subprocess

    from updater.secrets import mask

    credentials = Credentials("tok-header-77", "x-access-token", "$GITHUB_TOKEN")
    env = git_environment(credentials, tmp_path / "auth", url="https://git.example.test:8443/acme/gitops.git")
    git_env = {**{k: v for k, v in os.environ.items() if not k.startswith("GIT_CONFIG")}, **env,
               "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}

    def header_for(url: str) -> str:
        return subprocess.run(["git", "config", "--get-urlmatch", "http.extraheader", url], env=git_env,
                              capture_output=True, text=True).stdout.strip()

    basic = base64.b64encode(b"x-access-token:tok-header-77").decode()
    assert header_for("https://git.example.test:8443/acme/gitops.git/info/refs") == f"Authorization: Basic {basic}"
    assert header_for("https://elsewhere.example.test/acme/gitops.git") == ""  # a redirect elsewhere gets nothing
    assert basic not in mask(f"header {basic}")  # registered for masking
    assert "tok-header-77" not in " ".join(f"{k}={v}" for k, v in env.items() if k != "UPDATER_GIT_PASSWORD")
