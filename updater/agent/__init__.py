"""`updater agent`: the pull side. Follow a branch, render it, diff it against the cluster, apply with
server-side apply, prune, heal drift, report health.

Layers (checked by import-linter): the pure core (`objects`, `render` parsing, `diff`, `health`,
`inventory` selection, `plan`) takes values and returns values; `client` is the only module that talks
HTTP to the Kubernetes API; `source` is the only one that runs git; `loop` wires them together.
"""
