"""Following images in container registries (OCI Distribution API v2), for `updater watch`.

Layers, kept apart by import-linter contracts in pyproject.toml:
  names, challenge, credentials, policy, semver, spec   pure: values in, values out, no network
  http                                                  the only module that imports `requests`
  client                                                the registry API (tags, manifests, config)
  watching                                              one target: list tags, apply its policy

Registry responses are untrusted: `http` bounds every body and never sends credentials to a host
other than the registry (or the token realm it named); `client` checks every digest it can.
"""
