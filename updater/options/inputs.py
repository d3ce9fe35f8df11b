"""The check of the CI inputs against the options table: action.yml's `inputs:` and the GitLab
component's `spec:inputs` are written by hand (their descriptions are for their readers), so a
test compares their names with the table's `ci_input`s. Pure: names in, differences out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from updater.options.table import OPTIONS, Option

# Inputs of the CI wrappers themselves, not `updater bump` options.
# GitHub App auth (the action only) and the signing key: secrets arrive as inputs, never as flag values
ACTION_OWN = frozenset({"token", "app-id", "app-private-key", "signing-key"})
GITLAB_OWN = frozenset({"updater-image", "stage", "token-variable"})


@dataclass(frozen=True)
class InputsCheck:
    missing: tuple[str, ...]  # table inputs the file does not declare
    unknown: tuple[str, ...]  # inputs the file declares that are neither table inputs nor its own

    @property
    def ok(self) -> bool:
        return not self.missing and not self.unknown


def check_inputs(declared: Iterable[str], *, own: frozenset[str] = frozenset(),
                 rows: tuple[Option, ...] = OPTIONS) -> InputsCheck:
    names = set(declared)
    wanted = [row.ci_input for row in rows if row.ci_input is not None]
    return InputsCheck(missing=tuple(name for name in wanted if name not in names),
                       unknown=tuple(sorted(names - set(wanted) - own)))
