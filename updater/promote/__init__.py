"""`updater promote`: move what one environment runs to the next, gated by the agent's evidence.

`source` reads the versions a source environment's paths hold (the bump engine's locator), `evidence`
decides from the `updater/<cluster>` commit statuses whether the commit that introduced them is
deployed and healthy (pure), and `run` glues them to the bump landing (the same PR/push flow as
`updater bump --target`). The command edge is `updater.commands.promote`.
"""
