"""Adapters that run `updater bump` as one step of a CI pipeline (GitHub Actions, GitLab CI).

Both adapters are thin: they turn the platform's inputs (`INPUT_*` / `UPDATER_*` variables) into the
same argument list a user would type (`updater.ci.options`), run the CLI as a child process with
`--json`, and turn its JSON report into the platform's outputs (`updater.ci.report`). The CLI stays
the single source of behaviour and exit codes; nothing here re-implements a bump.
"""
