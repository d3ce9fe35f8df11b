from __future__ import annotations

import pytest

from updater.errors import BadInput
from updater.git.identity import Identity


def test_parses_name_and_email() -> None:
    who = Identity.parse("  CI Bot <ci@example.com> ")
    assert (who.name, who.email) == ("CI Bot", "ci@example.com")
    assert str(who) == "CI Bot <ci@example.com>"


@pytest.mark.parametrize("text", ["ci@example.com", "<ci@example.com>", "Bot <a b@c>", "Bot"])
def test_rejects_what_git_would_not_write(text: str) -> None:
    with pytest.raises(BadInput, match="--committer"):
        Identity.parse(text, flag="--committer")
