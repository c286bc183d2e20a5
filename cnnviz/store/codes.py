"""What rooms and challenges share: their codes, their teachers' secrets and their expiry.

A code is short enough to type from a projector (six characters of an alphabet without
look-alikes); a teacher's secret is a random token that only the teacher's session (and
browser) holds, stored as its sha256 and compared in constant time; a room or a challenge
expires after a while and is purged with the rows that belong to it.
"""
from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable, Sequence

from sqlalchemy import Connection, Table, delete, select
from sqlalchemy.exc import IntegrityError

from cnnviz.store.errors import NotTeacher, RoomError, StoreUnavailable

CODE_LENGTH = 6                                 # 31^6 ≈ 887 million codes
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: nothing to mistake
CODE_TRIES = 20  # a repeat among 887 million codes is rare; try again if so


def normal_code(text: str, what: str = "room") -> str:
    """A typed code in its stored form (upper case, spaces and dashes dropped); RoomError
    when it cannot be a code (`what`: a room's or a challenge's, for the sentence)."""
    code = re.sub(r"[\s-]", "", str(text)).upper()
    if len(code) != CODE_LENGTH or any(c not in ALPHABET for c in code):
        raise RoomError(f"A {what} code is {CODE_LENGTH} letters and digits (no 0, O, 1, I "
                        f"or L), like K7QX2M.")
    return code


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def check_secret(held: str | None, secret: object, what: str = "room") -> None:
    """NotTeacher unless `secret` is the one whose hash is `held` (constant time)."""
    if not secret or not isinstance(secret, str) or held is None \
            or not secrets.compare_digest(held, hash_secret(secret)):
        raise NotTeacher(f"Only the teacher who opened this {what} can change it.")


def open_with_code(insert: Callable[[str, str], dict], what: str = "room"
                   ) -> tuple[dict, str]:
    """A new teacher's secret and a free code: `insert(code, hashed secret)` stores the
    row (committing) and returns it, or raises IntegrityError when the code is taken.
    The row stored and the secret; StoreUnavailable when no free code is found."""
    secret = secrets.token_urlsafe(24)
    for _ in range(CODE_TRIES):
        code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
        try:
            return insert(code, hash_secret(secret)), secret
        except IntegrityError:
            continue
    raise StoreUnavailable(f"No free {what} code was found; try again.")


def purge_expired(c: Connection, parent: Table, children: Sequence[Table], now: float
                  ) -> int:
    """Delete, in the transaction `c`, the rows of `parent` that expired by `now` and the
    rows of `children` with their codes; how many of `parent`'s went."""
    gone = [r for (r,) in c.execute(select(parent.c.code).where(parent.c.expires <= now))]
    if gone:
        for table in (*children, parent):
            c.execute(delete(table).where(table.c.code.in_(gone)))
    return len(gone)
