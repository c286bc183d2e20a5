"""Ask the room: the teacher's room panel, the students' join page, and the room store seen
from a page (the only part of ui/ that opens the database, imported when it is used)."""
