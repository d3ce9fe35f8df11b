"""One module per subcommand: `HELP`, `configure(parser)` and `run(args) -> int`.

Imported by `updater.cli` to build the parser, so imports of heavy libraries go inside `run`.
"""
