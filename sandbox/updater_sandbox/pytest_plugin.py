"""pytest plugin: the `forge` fixture — a local GitHub/GitLab-compatible forge (`updater_sandbox.forge`)
started on a free 127.0.0.1 port for one test and stopped after it. Every JSON response the forge
sends during the test is validated against the vendored contracts (`sandbox/updater_sandbox/contracts/`);
any violation fails the test at teardown, listing each bad response.

Registered in `tests/conftest.py` (`pytest_plugins`). Using it::

    def test_pr_is_opened(forge, tmp_path):
        forge.create_repo("acme/gitops", {"app/deploy.yaml": "image: acme/api:1.0.0\\n"})
        forge.protect("acme/gitops", "main", Protection(required_contexts=("ci",)))  # optional
        gh = github.Github(auth=github.Auth.Token(forge.token), base_url=forge.github_api_url)
        gl = gitlab.Gitlab(forge.gitlab_api_url, private_token=forge.token)
        clone_url = forge.repo_url("acme/gitops")   # git: any user name, forge.token as password
        ...
        forge.set_status("acme/gitops", sha_or_ref, "success")          # simulated CI (GitHub + GitLab)
        forge.inject(faults.secondary_rate_limit(retry_after=1, service="github"))
        assert forge.pull("acme/gitops", 1).merged
        assert [r.status for r in forge.log_for("github", method="POST")] == [201]

Control API (all on `Forge`): `create_repo(name, files, default_branch=, hook_style="github"|"gitlab")`,
`commit(name, branch, files, message)` (a server-side commit, e.g. to move a base in a demo),
`repo(name)` (its `.bare` is the `BareRepo`; `.pulls`, `.statuses`), `settings(name)` (live
`RepoSettings`: allow_auto_merge, allow_merge_commit/squash/rebase, delete_branch_on_merge,
GitLab merge_method "merge"|"rebase_merge"|"ff", only_allow_merge_if_pipeline_succeeds),
`protect(name, branch, Protection(...))`/`unprotect`, `require_signatures(name, branch)` (GitHub's
rule, or GitLab's push rule on a `hook_style="gitlab"` repository), `trust_signing_key(principal,
ssh_public_key)` / `trust_gpg_key(armored)` / `verified(name, rev)`, `set_status(name, ref, state, context=)`,
`pull(name, number)`, `settle()`, `mergeability_delay` / `rebase_delay` (seconds),
`inject(Fault)` (see `updater_sandbox.faults`), `options` (real behaviours, those updater handles on by default: see
`updater_sandbox.options`), `requests` / `log_for(...)` (the request log),
`observers` (callables given each `LoggedRequest`). GitLab token kinds (`updater_sandbox.gitlab_tokens`):
`project_token(forge.store, name, scopes=, role=)`, `group_token`, `personal_token`, `job_token`,
`revoke`, `allow_job_token_push(forge.store, name)`. Addresses: `git_url`, `repo_url(name)`,
`github_api_url` (PyGithub `base_url`), `gitlab_api_url` (python-gitlab `url`), `token`.

`UPDATER_SANDBOX_FORGE_OPTIONS=head_lag=2,auto_merge_needs_pipeline=1 pytest ...` runs tests with
real behaviours on (`updater_sandbox.options`); unset, every option keeps its default.

Code that runs a forge outside the fixture (the demo, `updater sandbox serve --validate`, the
benchmark) can do the same with `updater_sandbox.schemas.entry_violations` as an observer.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from updater_sandbox.forge import Forge
from updater_sandbox.options import parse
from updater_sandbox.schemas import entry_violations


@pytest.fixture()
def forge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Forge]:
    violations: list[str] = []
    server = Forge(tmp_path_factory.mktemp("forge"))
    server.options = parse(os.environ.get("UPDATER_SANDBOX_FORGE_OPTIONS", ""))  # default: none on
    server.observers.append(lambda entry: violations.extend(entry_violations(entry)))
    with server:
        yield server
    if violations:
        pytest.fail("the forge answered outside its API contract:\n  " + "\n  ".join(violations), pytrace=False)
