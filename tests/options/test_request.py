"""`build_request(loaded=...)`: a config already read (watch reads `.updater.yml` once per pass)
gives the target's settings without reading any file or remote again."""

from __future__ import annotations

from pathlib import Path

import pytest

from updater.config import parse_config
from updater.errors import BadInput
from updater.options.request import build_request

CONFIG = """\
apps:
  api:
    image: ghcr.io/acme/api
    paths: [apps/api/**]
    labels: [deploy]
    environments: {prod: {mode: pr}}
"""


def test_a_loaded_config_is_used_as_it_is(tmp_path: Path) -> None:
    config = parse_config(CONFIG, source="watch's .updater.yml")
    missing = tmp_path / "no-tree-here"  # no .updater.yml anywhere: reading one would fail
    request = build_request({"image": ["ghcr.io/acme/api:1.4.2"], "target": "api/prod", "dir": str(missing)},
                            {}, loaded=config)
    assert (request.target, request.path, request.label, request.mode) == ("api/prod", ("apps/api/**",),
                                                                           ("deploy",), "pr")
    with pytest.raises(BadInput, match="needs a config file"):  # without it, the file is looked for
        build_request({"image": ["ghcr.io/acme/api:1.4.2"], "target": "api/prod", "dir": str(missing)}, {})
    remote_reads: list[str] = []
    build_request({"image": ["ghcr.io/acme/api:1.4.2"], "target": "api/prod", "repo": "https://example.invalid/x"},
                  {}, loaded=config, remote=lambda repo, **_: remote_reads.append(repo))
    assert remote_reads == []  # nor is the remote asked
    with pytest.raises(BadInput, match="is not the image of target api/prod"):  # the checks still hold
        build_request({"image": ["ghcr.io/acme/web:1.0.0"], "target": "api/prod"}, {}, loaded=config)
