"""`updater watch --every`: running passes on a fixed schedule until a signal says stop (`loop`)."""
