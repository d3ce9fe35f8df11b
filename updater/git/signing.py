"""Commit signing for `--sign ssh|gpg`: the private key from an environment variable, checked and
materialised once per run, handed to git only through the non-persistent config environment.

Where the key lives while updater runs: in one private directory of this process (0700, created by
`mkdtemp`; the key file 0600 from its first byte), removed at exit (`atexit`) and by the command's
own cleanup (`remove_signing_material`); SIGTERM and SIGHUP (a cancelled CI job) remove it
before they end the process. An ssh key is that file (`user.signingKey=<path>`,
`gpg.format=ssh`); a gpg key is imported into a temporary GNUPGHOME in that directory whose agent
is stopped on cleanup (`user.signingKey=<fingerprint>`). `commit.gpgSign=true` makes every `git
commit` of the clone sign. The config travels as `GIT_CONFIG_COUNT`/`GIT_CONFIG_KEY_n`/
`GIT_CONFIG_VALUE_n` (like the credentials header, `updater.git.credentials`), so nothing is ever
written to `.git/config`, and the key is never in argv, output or a log: its text is registered
for masking before anything can print it.

A key that cannot sign (not a key, passphrase-protected, no signing capability) is a `BadInput`
(exit 2) naming the flag and the variable, raised before anything is cloned or committed.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from updater import proc
from updater.errors import BadInput
from updater.secrets import register_secret

DEFAULT_KEY_ENV = "UPDATER_SIGNING_KEY"
FORMATS = {"ssh": "ssh", "gpg": "openpgp"}  # --sign value -> git's gpg.format


@dataclass(frozen=True)
class CommitSigning:
    """How git signs this run's commits: config entries and extra environment, no key text."""

    kind: str  # ssh | gpg
    config: tuple[tuple[str, str], ...]  # git config key -> value, set through the environment
    env: Mapping[str, str] = field(default_factory=dict)  # GNUPGHOME for gpg
    key_id: str = ""  # the public key (ssh) or fingerprint (gpg), for messages and the README check

    def environment(self, base: Mapping[str, str], environ: Mapping[str, str] | None = None) -> dict[str, str]:
        """`base` (git child environment entries, maybe already holding GIT_CONFIG_COUNT entries)
        plus the signing config, appended after every entry already counted."""
        environ = os.environ if environ is None else environ
        count = base.get("GIT_CONFIG_COUNT", environ.get("GIT_CONFIG_COUNT", "0"))
        try:
            index = max(0, int(count))
        except ValueError:
            index = 0
        merged = {**base, **self.env}
        for offset, (key, value) in enumerate(self.config):
            merged[f"GIT_CONFIG_KEY_{index + offset}"] = key
            merged[f"GIT_CONFIG_VALUE_{index + offset}"] = value
        merged["GIT_CONFIG_COUNT"] = str(index + len(self.config))
        return merged


def load_signing(kind: str | None, *, key_env: str | None, env: Mapping[str, str]) -> CommitSigning | None:
    """The signing setup for `--sign kind` with the key in `$key_env` (default UPDATER_SIGNING_KEY),
    or None without --sign. Checks the key can sign now: nothing is committed with a bad key."""
    name = key_env or DEFAULT_KEY_ENV
    if not kind:
        if key_env:
            raise BadInput(f"--signing-key-env {key_env}: give --sign ssh or --sign gpg to sign commits with it")
        return None
    if kind not in FORMATS:
        raise BadInput(f"--sign {kind}: give ssh or gpg")
    text = _key_text(env.get(name, ""), name)
    register_secret(text.strip() or None)
    for line in text.splitlines():  # a masked block still hides each line if a tool prints one
        if len(line.strip()) >= 16:
            register_secret(line.strip())
    if not text.strip():
        raise BadInput(f"--sign {kind}: ${name} is not set or empty; export the private key in it "
                       "(or name another variable with --signing-key-env)")
    directory = signing_directory()
    if kind == "ssh":
        return _ssh(text, name, directory)
    return _gpg(text, name, directory)


def _key_text(value: str, name: str) -> str:
    """The key itself, or the contents of the file a one-line value names (a GitLab CI variable of
    type File holds the path of a file with the value)."""
    candidate = value.strip()
    if candidate and "\n" not in candidate and os.path.isabs(candidate) and os.path.isfile(candidate):
        try:
            return Path(candidate).read_text()
        except (OSError, UnicodeDecodeError) as err:
            raise BadInput(f"--sign: ${name} names the file {candidate}, which cannot be read: {err}") from err
    return value


def _ssh(text: str, name: str, directory: Path) -> CommitSigning:
    path = directory / "signing_key"
    _write_private(path, text if text.endswith("\n") else text + "\n")
    # -y prints the public half; it fails for a non-key and (with an empty -P) for a passphrase-protected one
    derived = _run(["ssh-keygen", "-y", "-P", "", "-f", str(path)])
    if derived.returncode != 0 or not derived.out.startswith(("ssh-", "ecdsa-", "sk-")):
        path.unlink(missing_ok=True)
        raise BadInput(f"--sign ssh: ${name} does not hold a usable ssh private key (OpenSSH or PEM text, "
                       "without a passphrase): export the key file's contents in it")
    public = " ".join(derived.out.split()[:2])
    config = (("gpg.format", "ssh"), ("user.signingKey", str(path)), ("commit.gpgSign", "true"))
    return CommitSigning("ssh", config, key_id=public)


def _gpg(text: str, name: str, directory: Path) -> CommitSigning:
    home = _gnupg_home(directory)
    base = ["gpg", "--homedir", str(home), "--batch", "--no-tty"]
    bad = BadInput(f"--sign gpg: ${name} does not hold a usable OpenPGP secret key (armored, without a "
                   "passphrase, able to sign): export `gpg --armor --export-secret-keys KEYID` in it")
    imported = _run([*base, "--import"], input=text)
    fingerprint = _signing_fingerprint(_run([*base, "--with-colons", "--list-secret-keys"]).out)
    if imported.returncode != 0 or fingerprint is None:
        raise bad
    probe = _run([*base, "--pinentry-mode", "loopback", "--passphrase", "", "--local-user", fingerprint,
                  "--detach-sign", "--output", os.devnull], input="probe")
    if probe.returncode != 0:
        raise bad
    config = (("gpg.format", "openpgp"), ("user.signingKey", fingerprint), ("commit.gpgSign", "true"))
    return CommitSigning("gpg", config, {"GNUPGHOME": str(home)}, key_id=fingerprint)


def _gnupg_home(directory: Path) -> Path:
    """A GNUPGHOME inside `directory`, unless its agent's socket path would pass the 108-byte limit of
    unix sockets (a deep TMPDIR): then a private directory of its own under /tmp (also removed)."""
    home = directory / "gnupg"
    if len(str(home / "S.gpg-agent.browser")) >= 100 and os.path.isdir("/tmp"):
        home = Path(tempfile.mkdtemp(prefix="updater-gpg-", dir="/tmp"))  # mode 0700
        _extra_directories.append(home)
    home.mkdir(mode=0o700, exist_ok=True)
    _gnupg_homes.append(home)
    return home


def _signing_fingerprint(colons: str) -> str | None:
    """The fingerprint of the first secret (sub)key with signing capability in `--with-colons` output."""
    capable = False
    for line in colons.splitlines():
        fields = line.split(":")
        if fields[0] in ("sec", "ssb"):
            capable = "s" in (fields[11] if len(fields) > 11 else "")
        elif fields[0] == "fpr" and capable and len(fields) > 9:
            return fields[9]
    return None


def _run(args: list[str], *, input: str = "") -> proc.Result:
    """ssh-keygen / gpg, never reading our stdin; a missing tool is bad input naming the package."""
    try:
        return proc.run(args, input=input.encode(), timeout=60, check=False)
    except proc.CommandFailed as err:
        tool = "openssh-client (ssh-keygen)" if args[0] == "ssh-keygen" else "gnupg (gpg)"
        raise BadInput(f"--sign: {args[0]} cannot run ({err}): install {tool}") from err


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # never readable by others, not even briefly
    with os.fdopen(fd, "w") as file:
        file.write(text)


# --- key material: one private directory per process, removed at exit ----------------------
_lock = threading.RLock()  # re-entrant: the signal handler may run while the main thread holds it
_directory: Path | None = None
_gnupg_homes: list[Path] = []
_extra_directories: list[Path] = []  # GNUPGHOMEs outside the directory (see `_gnupg_home`)


def signing_directory() -> Path:
    """This process's private directory for signing keys (0700, created on first use)."""
    global _directory
    with _lock:
        if _directory is None or not _directory.is_dir():
            _directory = Path(tempfile.mkdtemp(prefix="updater-sign-"))
            atexit.register(remove_signing_material)
            _exit_on_termination()
        return _directory


def _exit_on_termination() -> None:
    """A CI job being cancelled sends SIGTERM (SIGHUP when its terminal goes), whose default action
    ends the process without running `atexit`: the key file would stay behind. While there is key
    material, those signals first remove it, then end the process as they would have (a handler
    someone else set is kept; the agent's, for one, exits through SystemExit and so runs atexit)."""
    if threading.current_thread() is not threading.main_thread():
        return  # signal handlers can only be set from the main thread; atexit still runs on a normal exit
    for number in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(number) is signal.SIG_DFL:
            signal.signal(number, _remove_then_die)


def _remove_then_die(signum: int, _frame: object) -> None:
    remove_signing_material()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def remove_signing_material() -> None:
    """Stop the gpg agents of our GNUPGHOMEs and delete the directory (idempotent)."""
    global _directory
    with _lock:
        for home in _gnupg_homes:
            try:
                proc.run(["gpgconf", "--homedir", str(home), "--kill", "gpg-agent"], timeout=30, check=False)
            except proc.CommandFailed:  # no gpgconf (or it hung): the agent exits once its socket is gone
                pass
        _gnupg_homes.clear()
        for extra in _extra_directories:
            shutil.rmtree(extra, ignore_errors=True)
        _extra_directories.clear()
        if _directory is not None:
            shutil.rmtree(_directory, ignore_errors=True)
            _directory = None
