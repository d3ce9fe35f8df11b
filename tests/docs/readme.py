"""The CI examples of README.md, read at test time: each fenced `yaml` block of the "GitHub Actions",
"GitLab CI", "GitLab tokens" and "Verified commits" sections is a complete file whose first line
names it (`# .gitlab-ci.yml ...`)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from tests.docs.tools import ROOT

_BLOCK = re.compile(r"^```yaml\n(.*?)^```", re.M | re.S)


@dataclass(frozen=True)
class Example:
    section: str
    path: str  # the file it is, from its first line
    text: str


def section(title: str) -> str:
    readme = (ROOT / "README.md").read_text()
    found = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## )", readme, re.M | re.S)
    assert found, f"README.md has no '## {title}' section"
    return found[1]


def examples(title: str) -> list[Example]:
    found = []
    for block in _BLOCK.findall(section(title)):
        first = block.splitlines()[0]
        named = re.match(r"# (\S+)", first)
        assert named, f"README.md ({title}): a yaml example must start with '# <its file path>', not {first!r}"
        found.append(Example(title, named[1], block))
    return found


def github_workflows() -> list[Example]:
    return [e for title in ("GitHub Actions", "Verified commits") for e in examples(title)
            if e.path.startswith(".github/workflows/")]


def gitlab_pipelines() -> list[Example]:
    return [e for e in examples("GitLab CI") if e.path == ".gitlab-ci.yml"]


def gitlab_token_pipelines() -> list[Example]:
    """The "GitLab tokens" and "Verified commits" sections' pipelines (checked by schema; the one
    run is "GitLab CI"'s)."""
    return [e for title in ("GitLab tokens", "Verified commits") for e in examples(title) if e.path == ".gitlab-ci.yml"]
