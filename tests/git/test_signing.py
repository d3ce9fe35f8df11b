"""`updater.git.signing`: the config entries git gets (appended after those already counted), the
choice of a signing-capable gpg key, and the push refusal that names the fix."""

from __future__ import annotations

import pytest

from updater.errors import PolicyRefused
from updater.git.push_result import parse_porcelain
from updater.git.signing import CommitSigning, _signing_fingerprint

SIGNING = CommitSigning("ssh", (("gpg.format", "ssh"), ("user.signingKey", "/k"), ("commit.gpgSign", "true")))


def test_signing_config_is_appended_after_the_credentials_and_the_callers_entries() -> None:
    base = {"GIT_CONFIG_COUNT": "2", "GIT_CONFIG_KEY_1": "http.extraHeader", "GIT_CONFIG_VALUE_1": "Authorization: x"}
    env = SIGNING.environment(base, environ={"GIT_CONFIG_COUNT": "1"})
    assert env["GIT_CONFIG_COUNT"] == "5" and env["GIT_CONFIG_KEY_1"] == "http.extraHeader"
    assert [env[f"GIT_CONFIG_KEY_{i}"] for i in (2, 3, 4)] == ["gpg.format", "user.signingKey", "commit.gpgSign"]
    # without credentials entries, after what the CI runner already set
    alone = SIGNING.environment({}, environ={"GIT_CONFIG_COUNT": "3"})
    assert alone["GIT_CONFIG_COUNT"] == "6" and alone["GIT_CONFIG_VALUE_5"] == "true"


def test_the_signing_subkey_is_chosen_not_an_encryption_only_primary() -> None:
    colons = ("sec:-:255:22:AAAA:1::::::eC::::\nfpr:::::::::PRIMARYFPR:\n"
              "ssb:-:255:22:BBBB:1::::::s::::\nfpr:::::::::SIGNINGFPR:\n")
    assert _signing_fingerprint(colons) == "SIGNINGFPR"
    assert _signing_fingerprint("sec:-:255:22:AAAA:1::::::e::::\nfpr:::::::::X:\n") is None


@pytest.mark.parametrize("line", ["error: Commits must have verified signatures.",
                                  "error: Commits must have valid signatures.",
                                  "GitLab: Commit must be signed with a GPG key"])
def test_a_refusal_for_unsigned_commits_says_how_to_sign(line: str) -> None:
    result = parse_porcelain("To x\n!\tHEAD:refs/heads/main\t[remote rejected] (pre-receive hook declined)\nDone\n",
                             f"remote: {line}\n")
    with pytest.raises(PolicyRefused, match=r"--sign ssh\|gpg .*UPDATER_SIGNING_KEY"):
        result.raise_for_rejection(url="https://example.com/r.git", branch="main")
    other = parse_porcelain("!\tHEAD:refs/heads/main\t[remote rejected] (pre-receive hook declined)\n",
                            "remote: error: Changes must be made through a pull request.\n")
    with pytest.raises(PolicyRefused) as refused:
        other.raise_for_rejection(url="https://example.com/r.git", branch="main")
    assert "--sign" not in str(refused.value)
