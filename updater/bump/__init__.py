"""The bump engine: find image references in a manifest tree, plan byte-minimal edits, apply them.

`engine.plan_bump` (read only) → `engine.validate_plan` (kustomize still builds, no new schema
violation) → `engine.apply_plan` (atomic writes). The same `BumpPlan` drives the diff, the JSON
output, commit messages and PR bodies.
"""
