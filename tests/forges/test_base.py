"""Provider detection from repository URLs, flags and CI variables (pure)."""

from __future__ import annotations

import pytest

from updater.errors import BadInput
from updater.forges.base import ForgeTarget, detect_target, normalise_api_url


def test_github_dot_com_https():
    assert detect_target("https://github.com/acme/gitops.git") == ForgeTarget(
        "github", "https://api.github.com", "acme/gitops", "GITHUB_TOKEN")


def test_github_scp_ssh_url():
    target = detect_target("git@github.com:acme/gitops.git")
    assert (target.provider, target.api_url, target.project) == ("github", "https://api.github.com", "acme/gitops")


def test_gitlab_dot_com_with_subgroups():
    assert detect_target("https://gitlab.com/acme/platform/gitops") == ForgeTarget(
        "gitlab", "https://gitlab.com", "acme/platform/gitops", "GITLAB_TOKEN")


def test_gitlab_web_url_suffix_is_dropped():
    assert detect_target("https://gitlab.com/acme/gitops/-/tree/main").project == "acme/gitops"


def test_github_enterprise_host_gets_api_v3():
    assert detect_target("https://github.example.com/acme/gitops").api_url == "https://github.example.com/api/v3"


def test_github_actions_variables_on_an_unknown_host():
    env = {"GITHUB_SERVER_URL": "https://code.acme.test", "GITHUB_API_URL": "https://code.acme.test/api/v3"}
    target = detect_target("https://code.acme.test/acme/gitops.git", env=env)
    assert (target.provider, target.api_url) == ("github", "https://code.acme.test/api/v3")


def test_gitlab_ci_variables_on_an_unknown_host():
    env = {"CI_SERVER_URL": "https://scm.acme.test", "CI_API_V4_URL": "https://scm.acme.test/api/v4"}
    target = detect_target("https://scm.acme.test/platform/gitops.git", env=env)
    assert (target.provider, target.api_url, target.project) == ("gitlab", "https://scm.acme.test", "platform/gitops")


def test_ci_variables_for_another_host_are_ignored():
    with pytest.raises(BadInput, match="--provider"):
        detect_target("https://scm.other.test/a/b.git", env={"CI_SERVER_URL": "https://scm.acme.test"})


def test_flags_win_for_the_local_forge():
    target = detect_target("http://127.0.0.1:8080/acme/gitops.git", provider="github",
                           api_url="http://127.0.0.1:8080/api/v3", token_env="FORGE_TOKEN")
    assert target == ForgeTarget("github", "http://127.0.0.1:8080/api/v3", "acme/gitops", "FORGE_TOKEN")


def test_gitlab_api_url_loses_api_v4():
    assert normalise_api_url("gitlab", "http://127.0.0.1:9/api/v4/") == "http://127.0.0.1:9"


def test_bare_enterprise_api_url_gets_api_v3():
    assert normalise_api_url("github", "https://ghe.acme.test") == "https://ghe.acme.test/api/v3"


def test_unknown_host_without_provider_is_bad_input():
    with pytest.raises(BadInput, match="--provider github\\|gitlab"):
        detect_target("https://git.acme.test/a/b.git")


def test_url_without_project_path_is_bad_input():
    with pytest.raises(BadInput, match="owner/repo"):
        detect_target("https://github.com/acme")


def test_api_url_must_be_http():
    with pytest.raises(BadInput, match="--api-url"):
        detect_target("https://github.com/a/b", api_url="ftp://x")


def test_api_url_tells_the_provider_when_the_host_does_not():
    assert detect_target("http://127.0.0.1:9/a/b.git", api_url="http://127.0.0.1:9/api/v4").provider == "gitlab"
    assert detect_target("http://127.0.0.1:9/a/b.git", api_url="http://127.0.0.1:9/api/v3").provider == "github"
