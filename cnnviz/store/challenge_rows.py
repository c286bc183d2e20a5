"""What the challenge store hands out: a challenge, a submission, and a checked nickname."""
from __future__ import annotations

import json
import re
import time
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import RowMapping

from cnnviz.store.errors import RoomError

NICKNAME_LENGTH = 24
QUEUED, TRAINING, DONE, FAILED, WITHDRAWN = "queued", "training", "done", "failed", "withdrawn"
ACTIVE = (QUEUED, TRAINING)


@dataclass(frozen=True)
class Challenge:
    code: str
    size: int
    max_params: int
    max_macs: int
    max_epochs: int
    closes: float
    created: float
    expires: float
    revealed: bool

    def is_open(self, now: float | None = None) -> bool:
        return (time.time() if now is None else now) < self.closes


@dataclass(frozen=True)
class Submission:
    id: int
    code: str
    student: str
    nickname: str
    spec: dict[str, Any]
    params: int
    macs: int
    status: str
    message: str | None
    public: float | None
    private: float | None
    submitted: float
    started: float | None
    finished: float | None
    attempts: int

    @property
    def active(self) -> bool:
        return self.status in ACTIVE


def checked_nickname(text: object) -> tuple[str, str]:
    """A nickname as stored (spaces collapsed, controls dropped, at most NICKNAME_LENGTH
    characters) and its key for uniqueness (NFKC, case-folded); RoomError when none is
    left."""
    raw = unicodedata.normalize("NFC", str(text))[:4 * NICKNAME_LENGTH]
    kept = "".join(c for c in raw if unicodedata.category(c)[0] != "C")
    nickname = " ".join(kept.split())
    if not nickname:
        raise RoomError("Choose a nickname (letters, digits or signs) for the leaderboard.")
    if len(nickname) > NICKNAME_LENGTH:
        raise RoomError(f"A nickname has at most {NICKNAME_LENGTH} characters.")
    key = unicodedata.normalize("NFKC", nickname).casefold()
    return nickname, re.sub(r"\s+", " ", key)[:4 * NICKNAME_LENGTH]


def challenge_of(row: Mapping[str, Any] | RowMapping) -> Challenge:
    return Challenge(row["code"], int(row["size"]), int(row["max_params"]),
                     int(row["max_macs"]), int(row["max_epochs"]), float(row["closes"]),
                     float(row["created"]), float(row["expires"]), bool(row["revealed"]))


def submission_of(row: Mapping[str, Any] | RowMapping) -> Submission:
    return Submission(int(row["id"]), row["code"], row["student"], row["nickname"],
                      json.loads(row["spec"]), int(row["params"]), int(row["macs"]),
                      row["status"], row["message"], row["public"], row["private"],
                      float(row["submitted"]), row["started"], row["finished"],
                      int(row["attempts"]))


