"""Reading `git push --porcelain` output (lines captured from git 2.39 against http-backend)."""

from __future__ import annotations

import pytest

from updater.errors import PolicyRefused, PushRejected, RemoteError
from updater.git.push_result import parse_porcelain

URL = "http://127.0.0.1:1/acme/gitops.git"


def test_fast_forward_is_ok() -> None:
    result = parse_porcelain(f"To {URL}\n \tHEAD:refs/heads/main\ta04cbd7..eaa6cfd\nDone\n")
    assert result.ok
    ref = result.ref("refs/heads/main")
    assert ref is not None and (ref.flag, ref.summary, ref.reason) == (" ", "a04cbd7..eaa6cfd", None)
    result.raise_for_rejection(url=URL, branch="main")


def test_up_to_date_and_new_branch_are_ok() -> None:
    result = parse_porcelain("=\tHEAD:refs/heads/main\t[up to date]\n*\tHEAD:refs/heads/x\t[new branch]\nDone\n")
    assert result.ok and [r.flag for r in result.refs] == ["=", "*"]


@pytest.mark.parametrize("reason", ["fetch first", "non-fast-forward", "stale info"])
def test_client_side_rejections_are_races(reason: str) -> None:
    result = parse_porcelain(f"To {URL}\n!\tHEAD:refs/heads/main\t[rejected] ({reason})\nDone\n")
    assert not result.ok and result.refs[0].is_race
    with pytest.raises(PushRejected, match=f"push to main on {URL} was rejected \\({reason}\\)"):
        result.raise_for_rejection(url=URL, branch="main")


def test_lock_failure_on_the_server_is_a_race() -> None:
    line = "!\tHEAD:refs/heads/main\t[remote rejected] (cannot lock ref 'refs/heads/main': is at 1 but expected 2)\n"
    with pytest.raises(PushRejected):
        parse_porcelain(line).raise_for_rejection(url=URL, branch="main")


def test_declined_hook_is_a_policy_refusal_with_the_server_text() -> None:
    result = parse_porcelain(
        "!\tHEAD:refs/heads/main\t[remote rejected] (pre-receive hook declined)\nDone\n",
        "remote: protected branch        \nerror: failed to push some refs\n",
    )
    assert result.remote_messages == ("protected branch",)
    with pytest.raises(PolicyRefused, match="pre-receive hook declined.*protected branch"):
        result.raise_for_rejection(url=URL, branch="main")


def test_unknown_rejection_is_a_permanent_remote_error() -> None:
    with pytest.raises(RemoteError) as caught:
        parse_porcelain("!\tHEAD:refs/heads/main\t[rejected] (weird)\n").raise_for_rejection(url=URL, branch="main")
    assert not caught.value.transient


def test_human_text_without_ref_lines_parses_to_nothing() -> None:
    assert parse_porcelain("Everything up-to-date\n").refs == ()
