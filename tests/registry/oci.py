"""Tiny OCI image layouts built with Python (a config blob and one layer tarball), for
`skopeo copy oci:DIR:TAG docker://...`: no network, no docker daemon."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def _blob(root: Path, data: bytes) -> tuple[str, int]:
    digest = hashlib.sha256(data).hexdigest()
    path = root / "blobs" / "sha256" / digest
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return f"sha256:{digest}", len(data)


def _layer(content: str) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        data = content.encode()
        info = tarfile.TarInfo("app/version.txt")
        info.size, info.mtime, info.mode = len(data), 0, 0o644
        tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def build_layout(root: Path, *, tag: str, content: str, created: str = "2026-01-01T00:00:00Z") -> str:
    """An OCI layout at `root` holding one image tagged `tag`; returns the manifest's digest.

    `content` goes into the layer, so two calls with different contents make different images."""
    (root / "oci-layout").parent.mkdir(parents=True, exist_ok=True)
    (root / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    layer = _layer(content)
    layer_digest, layer_size = _blob(root, layer)
    config = json.dumps({
        "architecture": "amd64", "os": "linux", "created": created,
        "config": {"Labels": {"content": content}},
        "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
    }, sort_keys=True).encode()
    config_digest, config_size = _blob(root, config)
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config_size},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer_digest, "size": layer_size}],
    }, sort_keys=True).encode()
    manifest_digest, manifest_size = _blob(root, manifest)
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [
        {"mediaType": OCI_MANIFEST, "digest": manifest_digest, "size": manifest_size,
         "annotations": {"org.opencontainers.image.ref.name": tag}}]}
    (root / "index.json").write_text(json.dumps(index))
    return manifest_digest
