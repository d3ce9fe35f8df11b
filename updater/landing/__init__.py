"""Landing a bump in a remote repository: push mode (`push`) and pull-request mode (`pr`).

Both run the one skeleton in `skeleton` (refresh → re-apply the plan from scratch → decide →
publish, retried under `updater.retry.retry_transient`); races are won by re-applying the bump on
the new tip, never by a textual rebase. `push` and `pr_flow` are the modes' steps, `pr_publish` the
forge side of a PR, `result` the outcome and its `updater.report.Report`, `output` the printing.
"""
