"""Decrypt sops-encrypted manifests (YAML and JSON, age recipients) in memory, verifying the MAC.

The job: text of a file (or of a kustomize build) in, decrypted documents out, or a named error
(`NoMatchingIdentity`, `MacMismatch`, `MalformedSopsFile`, `UnsupportedSopsFile`). It follows
getsops/sops exactly where the agent can see what sops sees: `values` (aes/cipher.go), `tree`
(sops.go: shouldBeEncrypted, Decrypt, the MAC), `metadata` (stores/stores.go), `yamltree`
(stores/yaml with go-yaml v3 typing), JSON via the standard library (stores/json). Age is
`pyrage`, AES-GCM is `cryptography`. Pure apart from age decryption: no files, no network, and
no plaintext in any message.

Not implemented, refused with a clear error: comment-based rules (`encrypted_comment_regex`,
`unencrypted_comment_regex`: the loader does not keep comments; comments are never in the MAC, so
everything else is exact), Shamir key groups, non-age master keys.

Where the agent decrypts (`updater.agent.render`):
- a plain file that carries a `sops:` block is decrypted as one unit, as `sops -d` would (the
  metadata of the first document covers every document of the file);
- a Kustomize tree is decrypted AFTER `kustomize build` (`built`), each rendered document that
  still carries `sops:` on its own. kustomize reads files from disk, so decrypting before the
  build (as Flux does for generator sources, and KSOPS as a plugin) would mean writing plaintext
  to a temporary tree; after the build the plaintext only ever lives in this process. What
  sops/kustomize users expect is that the kustomization applies to the Secret as written (name
  prefix, namespace, labels), which changes clear values and, since kustomize sorts keys, the
  order the MAC covers. Flux's kustomize-controller therefore skips the MAC on built resources.
  The agent keeps it: the file the document came from (found in the checkout by its unique
  `sops.mac` text) is verified whole, as sops would, and the built document's encrypted values
  are then decrypted with that file's data key, each one authenticated by AES-GCM against its
  key path. A value kustomize added under the file's encryption rules is refused: encrypt with
  `--encrypted-regex '^(data|stringData)$'` so metadata stays clear.
"""

from __future__ import annotations

from updater.agent.sops.built import Originals, decrypt_documents
from updater.agent.sops.errors import (BadIdentity, MacMismatch, MalformedSopsFile, NoMatchingIdentity, SopsError,
                                       UnsupportedSopsFile)
from updater.agent.sops.identities import NO_IDENTITIES, Identities, parse_identities
from updater.agent.sops.unit import carries_sops, decrypt_text

__all__ = ["BadIdentity", "Identities", "MacMismatch", "MalformedSopsFile", "NO_IDENTITIES", "NoMatchingIdentity",
           "Originals", "SopsError", "UnsupportedSopsFile", "carries_sops", "decrypt_documents", "decrypt_text",
           "parse_identities"]
