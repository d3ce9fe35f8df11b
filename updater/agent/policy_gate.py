"""The apply-time policy gate: the cluster operator's rules, checked on every rendered object of a pass.

The rules come from the agent config's `policy:` (settings) and, when `policy_configmap:` names one,
from that ConfigMap (key `policy.yaml`) in the agent's namespace of the cluster the agent runs in —
never from the repository being deployed, whose authors the policy is there to constrain. Both
apply: an object must pass each of them.

Decision: one violating object stops the whole app's pass, like a render error — nothing of the
app is applied or pruned, so the cluster never holds half of a commit. The pass's error names the
rule and the object, and so reaches the app's status (Degraded), its Event, the commit status and,
with `--dry-run`, the printed output. A named ConfigMap that is missing or unreadable also stops
the pass (fail closed: a policy that cannot be read must not turn into no policy).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from updater.agent import yamldocs
from updater.agent.client import KubeClient, KubeError, Resource
from updater.agent.objects import Obj
from updater.errors import BadInput, PolicyRefused
from updater.policy import Policy, Violation, check_object, policy_from_mapping

CONFIGMAP = Resource("v1", "ConfigMap", "configmaps", namespaced=True)
POLICY_KEY = "policy.yaml"


class PolicyViolation(PolicyRefused):
    """Rendered objects break the operator's policy: nothing of the app is applied."""

    def __init__(self, app: str, violations: Sequence[Violation]) -> None:
        self.violations = tuple(violations)
        first = self.violations[0]
        more = f" (and {len(self.violations) - 1} more)" if len(self.violations) > 1 else ""
        super().__init__(f"policy {first.rule}: {first.subject}: {first.detail}{more}; "
                         f"app {app} not applied")


class PolicyUnavailable(PolicyRefused):
    """The policy ConfigMap named in the agent config is missing or invalid: fail closed."""


@dataclass(frozen=True)
class Gate:
    """The policies to enforce: the config's, and a loader for the ConfigMap's (None: no ConfigMap)."""

    policy: Policy
    load_extra: Callable[[], Policy] | None = None

    def policies(self) -> list[Policy]:
        found = [self.policy]
        if self.load_extra is not None:
            found.append(self.load_extra())
        return [p for p in found if not p.empty]

    def enforce(self, app: str, objects: Sequence[Obj]) -> None:
        """Raise `PolicyViolation` when any object breaks any rule; return quietly otherwise."""
        violations = violations_of(objects, self.policies())
        if violations:
            raise PolicyViolation(app, violations)


def violations_of(objects: Sequence[Obj], policies: Sequence[Policy]) -> list[Violation]:
    """Every violation of every object, in render order, each once. Pure."""
    found: list[Violation] = []
    for obj in objects:
        for policy in policies:
            found += [v for v in check_object(obj, policy) if v not in found]
    return found


def configmap_loader(client: KubeClient, name: str, *, namespace: str) -> Callable[[], Policy]:
    """Reads the policy ConfigMap on each call (a pass), so an operator's edit applies at once."""
    def load() -> Policy:
        where = f"policy ConfigMap {namespace}/{name}"
        try:
            configmap = client.get(CONFIGMAP, name, namespace=namespace)
        except KubeError as err:
            raise PolicyUnavailable(f"{where}: cannot be read ({err}); nothing applied") from err
        if configmap is None:
            raise PolicyUnavailable(f"{where} does not exist: create it or remove policy_configmap; nothing applied")
        text = (configmap.get("data") or {}).get(POLICY_KEY)
        if not isinstance(text, str):
            raise PolicyUnavailable(f"{where} has no data key {POLICY_KEY!r}; nothing applied")
        try:
            return policy_from_mapping(yamldocs.load(text), source=where)
        except yamldocs.YAMLError as err:
            raise PolicyUnavailable(f"{where}: {POLICY_KEY} is not valid YAML; nothing applied") from err
        except BadInput as err:
            raise PolicyUnavailable(f"{err}; nothing applied") from err
    return load
