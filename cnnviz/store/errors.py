"""What the rooms refuse, each a sentence: RoomError and its kinds."""
from __future__ import annotations

from cnnviz.core.errors import InputError


class RoomError(InputError):
    """Something a person did that the rooms refuse; the message says what, in a sentence."""


class UnknownRoom(RoomError):
    """No open room has this code (never opened, expired or mistyped)."""


class RoomClosed(RoomError):
    """The round is closed: answers are no longer taken."""


class NotTeacher(RoomError):
    """A teacher's action without the teacher's secret."""


class StoreUnavailable(RoomError):
    """The database cannot be reached, written or created, or its file went away."""


def unavailable(e: BaseException) -> str:
    """The sentence for a database error `e` (its first 160 characters, on one line)."""
    detail = " ".join(str(getattr(e, "orig", None) or e).split())[:160]
    return f"The room database is unavailable ({detail}); the rest of cnnviz still works."
