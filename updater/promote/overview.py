"""`updater status`'s table: per app x environment, the versions in git (branch head), the versions an
open updater PR proposes (with its mergeability and auto-merge), and per cluster the agent's
`updater/<cluster>` status on the commit that introduced the versions in git. Rows are built from
values read by `updater.commands.status`; pure here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from updater.forges.base import CommitStatus
from updater.promote.evidence import PREFIX


@dataclass(frozen=True)
class Proposed:
    refs: tuple[str, ...]
    number: int
    url: str
    mergeable: str  # clean | behind | conflicting | blocked | unknown
    auto_merge: str | None  # the merge method, when auto-merge was asked


@dataclass(frozen=True)
class Row:
    target: str  # app/environment
    in_git: tuple[str, ...]  # versions on the branch head ("" when none found)
    commit: str | None  # the commit that introduced them
    proposed: Proposed | None
    clusters: tuple[CommitStatus, ...]  # the agent's statuses on `commit`
    note: str = ""  # why the versions in git could not be read (no reference, two versions...)

    def to_json(self) -> dict[str, Any]:
        return {"target": self.target, "in_git": list(self.in_git), "commit": self.commit,
                "proposed": {**asdict(self.proposed), "refs": list(self.proposed.refs)} if self.proposed else None,
                "clusters": [{"cluster": s.context.removeprefix(PREFIX), "state": s.state, "updated": s.updated,
                              "description": s.description} for s in self.clusters],
                "evidence": "reported" if self.clusters else "missing", "note": self.note or None}


def cluster_statuses(statuses: Sequence[CommitStatus]) -> tuple[CommitStatus, ...]:
    return tuple(sorted((s for s in statuses if s.context.startswith(PREFIX)), key=lambda s: s.context))


def table(rows: Sequence[Row]) -> str:
    """A plain-text table, one line per target (missing evidence said as such)."""
    header = ("TARGET", "IN GIT", "PROPOSED", "CLUSTERS")
    lines = [header]
    for row in rows:
        proposed = "-"
        if row.proposed:
            p = row.proposed
            auto = f", auto-merge {p.auto_merge}" if p.auto_merge else ""
            proposed = f"{' '.join(_tags(p.refs))} (#{p.number} {p.mergeable}{auto})"
        clusters = ", ".join(f"{s.context.removeprefix(PREFIX)}: {s.state}" for s in row.clusters)
        lines.append((row.target, " ".join(_tags(row.in_git)) or "-", proposed,
                      row.note or clusters or f"no evidence on {(row.commit or '?')[:12]}"))
    widths = [max(len(line[i]) for line in lines) for i in range(3)]
    return "".join(f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c:<{widths[2]}}  {d}".rstrip() + "\n"
                   for a, b, c, d in lines)


def _tags(refs: Sequence[str]) -> list[str]:
    """`api:1.5.0` rather than the whole reference: the table is read by people."""
    return [ref.rsplit("/", 1)[-1] for ref in refs]


def proposals(states: Mapping[str, Proposed], target: str) -> Proposed | None:
    return states.get(target)
