"""A real registry for the tests: Debian's `docker-registry` (CNCF distribution 2.8) on
127.0.0.1, a free port, htpasswd (bcrypt) auth, storage in a temp dir; images go in with
`skopeo copy` from layouts `tests.registry.oci` builds. Stopped by PID; every wait is bounded."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import bcrypt
import requests

from tests.registry.oci import build_layout
from tests.registry.token_server import TokenServer

START_TIMEOUT = 20.0  # distribution starts in well under a second; a slow shared CI box gets margin
STOP_TIMEOUT = 10.0
COPY_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Registry:
    """`docker-registry serve` with one user; `push()` puts a fresh image under a tag."""

    def __init__(self, root: Path, *, user: str = "watcher", password: str = "s3cret-registry-pw",
                 token_service: TokenServer | None = None) -> None:
        """htpasswd auth, or with `token_service` distribution's token auth trusting that service."""
        self.root, self.user, self.password = root, user, password
        self.token_service = token_service
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.url = f"http://{self.host}"
        (root / "htpasswd").write_bytes(f"{user}:".encode() + bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=5)) + b"\n")
        auth_config: dict[str, object] = {"htpasswd": {"realm": "updater-tests", "path": str(root / "htpasswd")}}
        if token_service is not None:
            auth_config = {"token": token_service.registry_auth()}
        config = {
            "version": 0.1,
            "log": {"level": "error", "accesslog": {"disabled": True}},
            "storage": {"filesystem": {"rootdirectory": str(root / "data")}, "delete": {"enabled": True}},
            "http": {"addr": self.host, "secret": "tests"},
            "auth": auth_config,
        }
        (root / "config.yml").write_text(json.dumps(config))  # JSON is YAML
        self.process: subprocess.Popen[bytes] | None = None
        self._pushes = 0

    def start(self) -> Registry:
        binary = shutil.which("docker-registry") or "/usr/bin/docker-registry"
        self.log = open(self.root / "registry.log", "wb")
        self.process = subprocess.Popen([binary, "serve", str(self.root / "config.yml")],
                                        stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"docker-registry exited: {(self.root / 'registry.log').read_text()[-2000:]}")
            try:
                if requests.get(f"{self.url}/v2/", timeout=1).status_code in (200, 401):
                    return self
            except requests.ConnectionError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"docker-registry did not answer on {self.url} within {START_TIMEOUT}s")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.kill(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(STOP_TIMEOUT)
        self.log.close()

    def __enter__(self) -> Registry:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def push(self, repo: str, tag: str, *, content: str | None = None, created: str = "2026-01-01T00:00:00Z") -> str:
        """A new image (unique content unless given) pushed as `repo:tag` with skopeo; its digest."""
        self._pushes += 1
        layout = self.root / "layouts" / f"{self._pushes}"
        build_layout(layout, tag=tag, content=content or f"{repo}:{tag}#{self._pushes}", created=created)
        subprocess.run(
            ["skopeo", "copy", "--quiet", "--dest-tls-verify=false", "--dest-creds", f"{self.user}:{self.password}",
             "--insecure-policy", f"oci:{layout}:{tag}", f"docker://{self.host}/{repo}:{tag}"],
            check=True, timeout=COPY_TIMEOUT, capture_output=True)
        return self.digest(repo, tag)

    def _auth(self, repo: str) -> tuple[tuple[str, str] | None, dict[str, str]]:
        """(Basic login, headers) for requests as the test user (a token straight from the service in token mode)."""
        if self.token_service is None:
            return (self.user, self.password), {}
        token = self.token_service.issue(self.user, [f"repository:{repo}:pull,push"])
        return None, {"Authorization": f"Bearer {token}"}

    def tag(self, repo: str, source: str, *tags: str) -> None:
        """More tags for the image at `source`, by re-putting its manifest (what `crane tag` does):
        seconds for hundreds of tags, where a skopeo copy per tag takes minutes."""
        with requests.Session() as session:
            session.auth, headers = self._auth(repo)
            session.headers.update(headers)
            got = session.get(f"{self.url}/v2/{repo}/manifests/{source}", timeout=10,
                              headers={"Accept": "application/vnd.oci.image.manifest.v1+json"})
            got.raise_for_status()
            for tag in tags:
                put = session.put(f"{self.url}/v2/{repo}/manifests/{tag}", data=got.content,
                                  headers={"Content-Type": got.headers["Content-Type"]}, timeout=10)
                put.raise_for_status()

    def digest(self, repo: str, tag: str) -> str:
        accept = ", ".join(("application/vnd.oci.image.index.v1+json", "application/vnd.oci.image.manifest.v1+json"))
        login, headers = self._auth(repo)
        reply = requests.head(f"{self.url}/v2/{repo}/manifests/{tag}", auth=login,
                              headers={"Accept": accept, **headers}, timeout=10)
        reply.raise_for_status()
        return reply.headers["Docker-Content-Digest"]

    def auth_config(self) -> str:
        """A docker config.json text holding this registry's login (for DOCKER_AUTH_CONFIG)."""
        import base64

        auth = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        return json.dumps({"auths": {self.host: {"auth": auth}}})
