"""Storage on a real database: the only importer of a database driver.

SQLite by default (a file in the data directory), PostgreSQL when CNNVIZ_DATABASE_URL says
so; see cnnviz.store.rooms.
"""
from cnnviz.store.challenges import (
    NOUN as CHALLENGE_NOUN,
)
from cnnviz.store.challenges import (
    Challenge,
    ChallengeStore,
    Submission,
    challenge_store,
)
from cnnviz.store.rooms import (
    ALPHABET,
    CODE_LENGTH,
    STUDENT_ID_LENGTH,
    Answer,
    NotTeacher,
    Room,
    RoomClosed,
    RoomError,
    RoomStore,
    StoreUnavailable,
    UnknownRoom,
    database_url,
    normal_code,
    store,
)
from cnnviz.store.rounds import CONFIDENCES, Phase, WrongPhase

__all__ = ["ALPHABET", "CODE_LENGTH", "CONFIDENCES", "STUDENT_ID_LENGTH", "Answer",
           "CHALLENGE_NOUN", "Challenge", "ChallengeStore", "Submission", "challenge_store",
           "NotTeacher", "Phase", "Room", "RoomClosed", "RoomError", "RoomStore",
           "StoreUnavailable", "UnknownRoom", "WrongPhase", "database_url", "normal_code",
           "store"]
