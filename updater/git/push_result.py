"""What `git push --porcelain` reported, read from its machine format rather than its human text.

Porcelain prints one line per ref: `<flag>\\t<src>:<dst>\\t<summary>[ (<reason>)]`, where the flag is
' ' (fast-forward), '+' (forced), '-' (deleted), '*' (new ref), '=' (up to date) or '!' (rejected).
`PushResult.raise_for_rejection()` turns a '!' line into our named error: a race (the branch moved:
retry after re-applying), a policy refusal (hook / protected branch: stop), or a remote error.
Pure parsing: nothing here runs git.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from updater.errors import PolicyRefused, PushRejected, RemoteError
from updater.secrets import mask

_LINE = re.compile(r"^(?P<flag>[ +\-*=!])\t(?P<src>[^:\t]*):(?P<dst>[^\t]+)\t(?P<summary>.*?)(?: \((?P<reason>.*)\))?$")

# Rejections that mean "someone else pushed first": fetch, re-apply on the new tip, push again.
RACE_REASONS = ("non-fast-forward", "fetch first", "stale info", "cannot lock ref", "failed to lock",
                "incorrect old value", "failed to update ref", "reference already exists")
# Rejections by the server's rules: retrying cannot help.
POLICY_REASONS = ("hook declined", "protected branch", "denied", "deny", "not allowed", "forbidden")
# The server's words for "this branch takes signed commits only": GitHub (GH006 classic protection,
# GH013 rulesets; "valid" before 2024) and GitLab's push rule ("... with a GPG key" before GitLab 16).
UNSIGNED_MARKERS = ("must have verified signatures", "must have valid signatures", "commit must be signed")
UNSIGNED_HINT = ("the branch requires signed commits: sign them with --sign ssh|gpg (the private key in "
                 "$UPDATER_SIGNING_KEY) and register its public key on the forge account (README: Verified commits)")


@dataclass(frozen=True)
class RefStatus:
    """One ref line of the porcelain output."""

    flag: str
    source: str
    destination: str  # full ref name, e.g. refs/heads/main
    summary: str  # "a1b2c3d..e4f5a6b", "[new branch]", "[up to date]", "[rejected]", "[remote rejected]"
    reason: str | None = None  # "fetch first", "pre-receive hook declined", ...

    @property
    def ok(self) -> bool:
        return self.flag != "!"

    @property
    def is_race(self) -> bool:
        return not self.ok and any(r in (self.reason or "").lower() for r in RACE_REASONS)

    @property
    def is_policy(self) -> bool:
        return not self.ok and any(r in (self.reason or "").lower() for r in POLICY_REASONS)


@dataclass(frozen=True)
class PushResult:
    """Every ref line of one push, plus the remote text (`remote: ...`) that explains a refusal."""

    refs: tuple[RefStatus, ...]
    remote_messages: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return bool(self.refs) and all(ref.ok for ref in self.refs)

    @property
    def unsigned(self) -> bool:
        """Whether the server refused the push for unsigned (or unverifiable) commits."""
        return any(marker in line.lower() for line in self.remote_messages for marker in UNSIGNED_MARKERS)

    def ref(self, destination: str) -> RefStatus | None:
        return next((r for r in self.refs if r.destination == destination), None)

    def raise_for_rejection(self, *, url: str, branch: str) -> None:
        """Raise PushRejected (race), PolicyRefused (hook, protected branch) or RemoteError for a
        rejected ref; return quietly when every ref was accepted."""
        for ref in self.refs:
            if ref.ok:
                continue
            why = ref.reason or ref.summary
            detail = f"; the server said: {self.remote_messages[-1]}" if self.remote_messages else ""
            where = mask(f"push to {branch} on {url}")
            if ref.is_race:
                raise PushRejected(f"{where} was rejected ({why}): the branch moved")
            if ref.summary == "[remote rejected]" and self.unsigned:
                raise PolicyRefused(f"{where} was refused by the server ({why}){mask(detail)}: {UNSIGNED_HINT}")
            if ref.is_policy or ref.summary == "[remote rejected]":
                raise PolicyRefused(f"{where} was refused by the server ({why}){mask(detail)}: "
                                    "check branch protection or push to another branch (--mode pr)")
            raise RemoteError(f"{where} failed ({why}){mask(detail)}")


def parse_porcelain(stdout: str, stderr: str = "") -> PushResult:
    """Parse `git push --porcelain` stdout (and the `remote:` lines of stderr)."""
    refs = []
    for line in stdout.splitlines():
        match = _LINE.match(line)
        if match:
            refs.append(RefStatus(match["flag"], match["src"], match["dst"], match["summary"], match["reason"]))
    remote = tuple(
        text for line in stderr.splitlines()
        if line.startswith("remote:") and (text := line.removeprefix("remote:").strip())
    )
    return PushResult(tuple(refs), remote)
