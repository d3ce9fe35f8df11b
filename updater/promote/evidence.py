"""Is the commit that introduced a version deployed and healthy? Decided from the `updater/<cluster>`
commit statuses the agent reports. Pure: statuses in, a verdict out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from updater.forges.base import CommitStatus

PREFIX = "updater/"  # the agent's status context: updater/<cluster>


@dataclass(frozen=True)
class Verdict:
    ok: bool
    commit: str
    statuses: tuple[CommitStatus, ...]  # the agent's statuses on the commit
    reason: str  # one line: why not (or what proves it)

    def markdown(self) -> str:
        """The PR body's evidence lines (no `{`/`}`: the body is a template)."""
        lines = [f"Promotion evidence: commit `{self.commit}`"]
        for status in self.statuses:
            link = f" ([details]({status.target_url}))" if status.target_url else ""
            lines.append(f"- `{status.context}`: {status.state} at {status.updated or 'unknown time'}"
                         f" {status.description}{link}".rstrip())
        if not self.ok:
            lines.append(f"- not verified: {self.reason} (promoted with --no-verify)")
        return "\n".join(lines).replace("{", "(").replace("}", ")")


def verdict(commit: str, statuses: Sequence[CommitStatus]) -> Verdict:
    """Healthy when at least one `updater/<cluster>` status is there and every one of them is success."""
    ours = tuple(s for s in statuses if s.context.startswith(PREFIX))
    if not ours:
        return Verdict(False, commit, ours, f"no {PREFIX}<cluster> commit status on {commit[:12]} "
                                            "(the agent has not reported it deployed)")
    bad = [s for s in ours if s.state != "success"]
    if bad:
        return Verdict(False, commit, ours, f"{bad[0].context} is {bad[0].state} on {commit[:12]}"
                                            + (f": {bad[0].description}" if bad[0].description else ""))
    return Verdict(True, commit, ours, ", ".join(f"{s.context} success" for s in ours))
