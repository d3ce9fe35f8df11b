"""`python -m updater` is the same as the `updater` command."""

from updater.cli import main

raise SystemExit(main())
