"""Who may use a shared page and who may change its library: a users file (QA_PAGE_AUTH) of names and salted
password hashes, and read-only mode (QA_PAGE_READONLY). Pure Python, no gradio.

A users file has one line per user, `name:pbkdf2_sha256$ITERATIONS$SALT$HASH[:editor]`; `qa page-user NAME
--file FILE [--editor]` writes one. With QA_PAGE_READONLY=true nobody may add or delete, except the users the
file marks `editor`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from pathlib import Path

from qa.errors import ConfigError, QAError

SCHEME = "pbkdf2_sha256"
ITERATIONS = 240_000


class ReadOnlyError(QAError):
    def __init__(self) -> None:
        super().__init__(
            "this page is read-only: adding and deleting articles is turned off (QA_PAGE_READONLY); "
            "ask whoever runs it, or use `qa ingest` on the server."
        )


def hash_password(password: str, salt: str | None = None, iterations: int = ITERATIONS) -> str:
    salt = salt or secrets.token_hex(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), iterations)
    return f"{SCHEME}${iterations}${salt}${base64.b64encode(digest).decode()}"


def _matches(password: str, stored: str) -> bool:
    try:
        scheme, iterations, salt, _ = stored.split("$")
        return scheme == SCHEME and hmac.compare_digest(hash_password(password, salt, int(iterations)), stored)
    except ValueError:
        return False


@dataclass(frozen=True)
class User:
    name: str
    hashed: str
    editor: bool = False


def read_users(path: Path) -> dict[str, User]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise ConfigError(
            f"QA_PAGE_AUTH={path}: cannot read the users file ({e.strerror}); write one with "
            "`qa page-user NAME --file FILE`."
        ) from None
    users = {}
    for n, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, _, rest = line.strip().partition(":")
        hashed, _, role = rest.partition(":")
        if not name or not hashed.startswith(SCHEME + "$") or role not in ("", "editor"):
            raise ConfigError(f"{path}:{n}: expected `name:{SCHEME}$...[:editor]`; write it with `qa page-user`.")
        users[name] = User(name, hashed, role == "editor")
    if not users:
        raise ConfigError(f"QA_PAGE_AUTH={path}: no users in the file; add one with `qa page-user NAME --file FILE`.")
    return users


def write_user(path: Path, name: str, password: str, editor: bool) -> None:
    """Add or replace a user's line in the file (created when missing)."""
    if not name or ":" in name or not password:
        raise ConfigError("a user needs a name without ':' and a non-empty password.")
    users = read_users(path) if path.exists() and path.read_text().strip() else {}
    users[name] = User(name, hash_password(password), editor)
    lines = [f"{u.name}:{u.hashed}{':editor' if u.editor else ''}" for u in users.values()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path.chmod(0o600)


@dataclass(frozen=True)
class Access:
    """What the page lets a visitor do. users None: no login; readonly: no writes but for editors."""

    users: dict[str, User] | None = None
    readonly: bool = False

    def login(self, name: str, password: str) -> bool:
        user = (self.users or {}).get(name)
        return user is not None and _matches(password, user.hashed)

    def may_write(self, name: str | None) -> bool:
        if not self.readonly:
            return True
        user = (self.users or {}).get(name or "")
        return user is not None and user.editor

    def check_write(self, name: str | None) -> None:
        if not self.may_write(name):
            raise ReadOnlyError()
