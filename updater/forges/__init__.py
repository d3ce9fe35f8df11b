"""Forge providers (GitHub, GitLab): one small Protocol in `base`, one module per forge.

PyGithub is imported only by `updater.forges.github`, python-gitlab only by `updater.forges.gitlab`;
both are loaded lazily through `base.open_provider`, so a local bump never imports them.
"""
