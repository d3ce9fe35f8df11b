"""Replaying recorded real exchanges against the forge: read the vendored recordings
(`sandbox/updater_sandbox/recordings/`), map one recorded request onto a small forge world, send it, and say
how the forge's answer differs from the real one.

What is compared is what clients read: the status; every key of the recorded JSON body, with its JSON
type (null matches any type: the real value was unknown or unset at recording time); and the values
that carry meaning — `state`, `merged`, `message` and `type` (error wording, GraphQL error types,
git object types). Ids, URLs, dates and names belong to the recorded world and are not compared; a
null on either side matches any type (the recorded PR had a milestone, ours has none; mergeability
may still be computing), so nullability is left to the contract validation the fixture does.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from updater_sandbox.forge import Forge

RECORDINGS = Path(__file__).resolve().parents[2] / "sandbox" / "updater_sandbox" / "recordings"
VALUE_KEYS = ("state", "merged", "message", "type")
_SESSION = requests.Session()  # keep-alive: a new connection per request costs more than the request
MAX_DEPTH = 3  # the nesting clients read (pull → head → repo); deeper is the recorded world's detail


@dataclass(frozen=True)
class Exchange:
    """One recorded request and the real service's answer."""

    service: str  # github | graphql | gitlab
    method: str
    path: str  # without the API prefix, with any query string
    body: Any  # decoded JSON request body, or None
    status: int
    answer: Any  # decoded JSON answer, or None for an empty one
    source: str  # "<recording file>#<index>"


def pygithub(name: str) -> list[Exchange]:
    """PyGithub's ReplayData format: ten lines per exchange (protocol, method, host, port, path,
    request headers, request body, status, response headers, response body), blank-line separated."""
    lines = (RECORDINGS / "pygithub" / name).read_text(encoding="utf-8").split("\n")
    found: list[Exchange] = []
    i = 0
    while i + 9 < len(lines):
        if not lines[i]:
            i += 1
            continue
        _, method, _, _, path, _, body, status, _, answer = lines[i:i + 10]
        service = "graphql" if path == "/graphql" else "github"
        found.append(Exchange(service, method, path, _json(body), int(status), _json(answer),
                              f"pygithub/{name}#{len(found)}"))
        i += 10
    return found


def octokit(name: str) -> list[Exchange]:
    """octokit/fixtures' normalized fixtures: a JSON list of nock-style request/response records."""
    records = json.loads((RECORDINGS / "octokit" / name).read_text(encoding="utf-8"))
    return [Exchange("github", r["method"].upper(), r["path"], r.get("body") or None, int(r["status"]),
                     r.get("response") or None, f"octokit/{name}#{k}") for k, r in enumerate(records)]


def reported(key: str) -> Exchange:
    """An answer quoted in a public bug report (`reported-errors.json`)."""
    entry = json.loads((RECORDINGS / "reported-errors.json").read_text(encoding="utf-8"))[key]
    return Exchange(entry["service"], entry["method"], entry["path"], entry.get("body"), int(entry["status"]),
                    entry["answer"], f"reported-errors.json#{key}")


def _json(text: str) -> Any:
    if text in ("", "None", "''"):
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:  # PyGithub writes some request bodies as Python reprs; unused here
        return None


# --- the world a recorded request is replayed in ---------------------------------------------------

@dataclass
class World:
    """A repository (`repo`, e.g. acme/gitops) on the forge: main with two commits, PR `open` (topic → main, behind main by
    nothing) and PR `merged` (done → main, merged); `shas` by role: main, main_parent, head."""

    forge: Forge
    repo: str
    numbers: dict[str, int] = field(default_factory=dict)
    node_ids: dict[str, str] = field(default_factory=dict)
    shas: dict[str, str] = field(default_factory=dict)


def build_world(forge: Forge, repo: str = "acme/gitops") -> World:
    world = World(forge, repo)
    forge.create_repo(world.repo, {"README.md": "# gitops\n"})
    world.shas["main_parent"] = forge.repo(world.repo).bare.rev_parse("refs/heads/main") or ""
    world.shas["main"] = forge.commit(world.repo, "main", {"a.txt": "a\n"}, "a")
    world.shas["head"] = forge.commit(world.repo, "topic", {"b.txt": "b\n"}, "b")
    forge.commit(world.repo, "done", {"c.txt": "c\n"}, "c")
    for role, head in (("open", "topic"), ("merged", "done")):
        answer = call(forge, "github", "POST", f"/repos/{world.repo}/pulls",
                      {"title": role, "head": head, "base": "main", "body": ""}).json()
        world.numbers[role], world.node_ids[role] = answer["number"], answer["node_id"]
    forge.mergeability_delay, delay = 0.0, forge.mergeability_delay  # the merge below must not wait
    merged = call(forge, "github", "PUT", f"/repos/{world.repo}/pulls/{world.numbers['merged']}/merge", {})
    forge.mergeability_delay = delay
    assert merged.status_code == 200, merged.text
    return world


def call(forge: Forge, service: str, method: str, path: str, body: Any = None) -> requests.Response:
    prefix = {"github": forge.github_api_url, "graphql": forge.url + "/api/graphql",
              "gitlab": forge.url + "/api/v4"}[service]
    url = prefix if service == "graphql" else prefix + path
    return _SESSION.request(method, url, json=body, timeout=10,
                            headers={"Authorization": f"token {forge.token}", "PRIVATE-TOKEN": forge.token})


# --- comparing answers -----------------------------------------------------------------------------

def differences(recorded: Exchange, status: int, answer: Any) -> list[str]:
    """What a client would see differently in the forge's answer (empty: they match)."""
    found = [] if status == recorded.status else [f"status {status}, real {recorded.status}"]
    if recorded.answer is not None:
        _compare(recorded.answer, answer, "$", 0, found)
    return found


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object" if isinstance(value, dict) else "null"


def _compare(real: Any, got: Any, where: str, depth: int, found: list[str]) -> None:
    if real is not None and got is None and where == "$":
        found.append("no body")  # an error without its JSON message
        return
    if real is None or got is None:
        return  # unset in one of the two worlds (no milestone, no homepage, mergeability computing)
    if _kind(real) != _kind(got):
        found.append(f"{where}: {_kind(got)}, real {_kind(real)}")
        return
    if isinstance(real, dict) and depth < MAX_DEPTH:
        for key, value in real.items():
            if key not in got:
                found.append(f"{where}.{key}: missing")
                continue
            if _meaningful(where, key, value) and not _same_value(value, got[key]):
                found.append(f"{where}.{key}: {got[key]!r}, real {value!r}")
            _compare(value, got[key], f"{where}.{key}", depth + 1, found)
    elif isinstance(real, list) and real and got and depth < MAX_DEPTH:
        _compare(real[0], got[0], f"{where}[0]", depth + 1, found)


def _meaningful(where: str, key: str, value: Any) -> bool:
    """Values compared: states, merged, messages; `type` only of git objects and GraphQL errors (an
    owner's type is the recorded world's: a user here, often an organization there)."""
    if key not in VALUE_KEYS or not isinstance(value, (str, bool)):
        return False
    return key != "type" or where.endswith((".object", "errors[0]"))


def _same_value(real: Any, got: Any) -> bool:
    """Equal; for wording, the real message may be the start of ours (GitHub appends a request id to
    some messages, which older recordings quote without)."""
    if isinstance(real, str) and isinstance(got, str) and len(real) > 20:
        return got == real or got.startswith(real)
    return bool(got == real)


def rewrite(text: str, world: World, pulls: dict[str, str], shas: dict[str, str]) -> str:
    """A recorded path or body in `world`'s terms: the repository, pull numbers (recorded
    `owner/name#n` → world role; default the open one), node ids and 40-hex shas (→ role; default head)."""

    def repo_part(match: re.Match[str]) -> str:
        owner, name, kind, number = match.group(1), match.group(2), match.group(3), match.group(4)
        out = f"/repos/{world.repo}"
        if kind:
            role = pulls.get(f"{owner}/{name}#{number}", "open")
            out += f"/{kind}/{world.numbers[role]}"
        return out

    text = re.sub(r"/repos/([^/]+)/([^/?]+)(?:/(pulls|issues)/(\d+))?", repo_part, text)
    def sha_part(match: re.Match[str]) -> str:
        return world.shas[shas.get(match.group(0), "head")]

    return re.sub(r"\b[0-9a-f]{40}\b", sha_part, text)


def provenance_mismatches(directory: Path) -> list[str]:
    """Files whose sha256 differs from the one their PROVENANCE.md table gives (or that are missing)."""
    import hashlib  # only this check needs it

    wrong = []
    for line in (directory / "PROVENANCE.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        if len(cells) < 2 or not re.fullmatch(r"[0-9a-f]{64}", cells[-1]):
            continue
        path = directory / cells[0]
        if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != cells[-1]:
            wrong.append(cells[0])
    return wrong
