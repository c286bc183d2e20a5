"""Storage on a real database: the only importer of a database driver.

SQLite by default (a file in the data directory), PostgreSQL when CNNVIZ_DATABASE_URL says
so; see cnnviz.store.rooms.
"""
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

__all__ = ["ALPHABET", "CODE_LENGTH", "STUDENT_ID_LENGTH", "Answer", "NotTeacher", "Room",
           "RoomClosed", "RoomError", "RoomStore", "StoreUnavailable", "UnknownRoom",
           "database_url", "normal_code", "store"]
