"""updater: the step between CI and a GitOps cluster.

`updater bump` rewrites image references in a manifest repository with byte-minimal edits and lands
them by push or pull request; `updater agent` is the pull side that applies the repository to a
cluster. See README.md.
"""

__version__ = "0.1.0"
