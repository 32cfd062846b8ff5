"""Local data-manager accounts (standalone deployments), in a file outside the repository.

`comptes.json` in the publication space (`common.store.home()`, or `$OBSERVATOIRE_ACCOUNTS`): one
entry per user with an argon2id hash (argon2-cffi), the count of consecutive failed attempts and
the end of a lock. There is no default account and no default password: `python -m etl admin
add-user NAME` creates one. `MAX_FAILURES` wrong passwords in a row lock the account for
`LOCK_SECONDS`, whoever tries (the counter lives in the file, shared by every server process).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import tempfile
import time
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from common.store import home

ACCOUNTS_ENV = "OBSERVATOIRE_ACCOUNTS"
#: Wrong passwords in a row before the account is locked.
MAX_FAILURES = 5
#: How long a locked account refuses every password, even the right one.
LOCK_SECONDS = 5 * 60
#: Shortest password accepted when an account is created.
MIN_PASSWORD_CHARS = 12
_USER = re.compile(r"^[A-Za-z0-9._@-]{2,64}$")
_HASHER = PasswordHasher()


class AccountLocked(PermissionError):
    def __init__(self, user: str, seconds: int):
        super().__init__(f"compte « {user} » verrouillé après {MAX_FAILURES} essais manqués : réessayer dans "
                         f"{max(1, seconds // 60 + (seconds % 60 > 0))} min")
        self.seconds = seconds


def accounts_path() -> Path:
    return Path(os.environ.get(ACCOUNTS_ENV) or home() / "comptes.json")


@contextlib.contextmanager
def _locked(path: Path):
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with open(path.with_name(f".{path.name}.lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _load(path: Path) -> dict:
    if not path.exists():
        return {}
    return json.loads(path.read_text(encoding="utf-8") or "{}")


def _save(path: Path, accounts: dict) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".comptes-")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(accounts, handle, ensure_ascii=False, indent=1)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def users(path: Path | None = None) -> list[str]:
    return sorted(_load(path or accounts_path()))


def add_user(user: str, password: str, path: Path | None = None) -> None:
    path = path or accounts_path()
    if not _USER.match(user or ""):
        raise ValueError("identifiant : 2 à 64 caractères parmi lettres, chiffres, . _ @ -")
    if len(password or "") < MIN_PASSWORD_CHARS:
        raise ValueError(f"mot de passe : {MIN_PASSWORD_CHARS} caractères au moins")
    with _locked(path):
        accounts = _load(path)
        accounts[user] = {"hash": _HASHER.hash(password), "failures": 0, "locked_until": 0,
                          "role": "gestionnaire"}
        _save(path, accounts)


def remove_user(user: str, path: Path | None = None) -> bool:
    path = path or accounts_path()
    with _locked(path):
        accounts = _load(path)
        found = accounts.pop(user, None) is not None
        _save(path, accounts)
    return found


def verify(user: str, password: str, path: Path | None = None, clock=time.time) -> bool:
    """True for the right password of an unlocked account. A wrong one counts a failure (an unknown
    user is simply False, after the same hashing work); raises `AccountLocked` while locked."""
    path = path or accounts_path()
    with _locked(path):
        accounts = _load(path)
        account = accounts.get(user)
        if account is None:
            with contextlib.suppress(VerificationError, InvalidHashError):
                _HASHER.verify(_HASHER.hash("x" * MIN_PASSWORD_CHARS), password or "")
            return False
        remaining = int(account.get("locked_until", 0) - clock())
        if remaining > 0:
            raise AccountLocked(user, remaining)
        try:
            _HASHER.verify(account["hash"], password or "")
        except (VerificationError, InvalidHashError):
            account["failures"] = int(account.get("failures", 0)) + 1
            if account["failures"] >= MAX_FAILURES:
                account["failures"], account["locked_until"] = 0, clock() + LOCK_SECONDS
            _save(path, accounts)
            if account["locked_until"] > clock():
                raise AccountLocked(user, LOCK_SECONDS) from None
            return False
        if account.get("failures") or account.get("locked_until"):
            account["failures"], account["locked_until"] = 0, 0
            _save(path, accounts)
        return True
