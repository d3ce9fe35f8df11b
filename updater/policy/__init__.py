"""The operator's and the repository's rules about what may run, shared by both sides of updater.

One rule means the same thing wherever it is checked: `updater agent` checks every rendered object
before applying it (the cluster operator's policy, from the agent config — never from the repository),
and `updater bump`/`watch`/`promote` check the images they are about to write (the repository's
`.updater.yml` `policy:`) before anything is pushed. Pure: values in, violations out; no I/O.
"""

from updater.policy.check import check_image, check_object
from updater.policy.model import Exemption, Policy, RegistryRule, Violation
from updater.policy.jump import check_jump, is_major_jump
from updater.policy.parse import policy_from_mapping

__all__ = ["Exemption", "Policy", "RegistryRule", "Violation", "check_image", "check_jump", "check_object", "is_major_jump",
           "policy_from_mapping"]
