"""A room's question through peer instruction: its phases, the teacher's moves between them,
and the confidence a student may give with an answer.

Crouch & Mazur 2001 (Am. J. Phys. 69(9), 970–977): each student votes alone, the class
discusses with neighbours and votes again, and only then comes the explanation. Smith et
al. 2009 (Science 323, 122–124) ask an isomorphic question (a twin: here the same question
with other numbers) after the revote, answered alone; here it comes after the reveal. So
a question's phases are

    round 1 voting -> round 1 closed (nothing shown) -> round 2 voting -> round 2 closed
        -> revealed -> twin voting -> twin closed -> twin revealed

with two short cuts a teacher needs: reveal straight after round 1 (most of the class
was right: a short explanation and on to the next question) and reveal an open round
(close and reveal at once). Every other move is refused with a sentence (WrongPhase).
Moving the room to another step starts that step at round 1; ending it is always allowed.

Rounds are numbered per step: round 1 alone, round 2 after discussion, and the twin the
round after the last one (round 3, or round 2 when the answer was revealed after round 1),
its answers marked as the twin's.

A lesson's pre/post test (cnnviz.lessons.prepost) asks its questions at the start as
round 1, closed with nothing revealed, and at the end their twins in a post-test: the room
moves to each test question in turn in the phase `post` (round POST_ROUND, answered
alone, its answers marked as the twin's and the post-test's), then `post closed`.
"""
from __future__ import annotations

from enum import StrEnum

from cnnviz.store.errors import RoomError

FIRST, SECOND = 1, 2  # round 1: alone; round 2: after discussing with a neighbour
POST_ROUND = 4  # the post-test's twin: after round 1, round 2 and an in-class twin (<= 3)


class WrongPhase(RoomError):
    """A teacher's move the question's phase does not allow (round 2 before round 1 is
    closed, a twin before the reveal...)."""


class Phase(StrEnum):
    VOTE1 = "vote1"              # round 1 open: each student alone
    CLOSED1 = "closed1"          # round 1 closed, nothing revealed
    VOTE2 = "vote2"              # round 2 open: after discussing with a neighbour
    CLOSED2 = "closed2"          # round 2 closed, nothing revealed
    REVEALED = "revealed"        # the computed answer is on the projector
    TWIN = "twin"                # the isomorphic twin open, answered alone
    TWIN_CLOSED = "twin_closed"  # the twin closed, its answer not shown
    TWIN_REVEALED = "twin_revealed"
    POST = "post"                # a test question's twin in the post-test, open, alone
    POST_CLOSED = "post_closed"  # closed: nothing revealed (the report has the gain)

    @property
    def is_open(self) -> bool:
        return self in (Phase.VOTE1, Phase.VOTE2, Phase.TWIN, Phase.POST)

    @property
    def is_twin(self) -> bool:
        return self in (Phase.TWIN, Phase.TWIN_CLOSED, Phase.TWIN_REVEALED, Phase.POST,
                        Phase.POST_CLOSED)

    @property
    def is_post(self) -> bool:
        """The post-test of a lesson's pre/post test."""
        return self in (Phase.POST, Phase.POST_CLOSED)

    @property
    def revealed(self) -> bool:
        return self in (Phase.REVEALED, Phase.TWIN_REVEALED)

    def text(self) -> str:
        """The phase in words, for the teacher and the CLI."""
        return PHASE_TEXT[self]


PHASE_TEXT = {Phase.VOTE1: "round 1 open", Phase.CLOSED1: "round 1 closed",
              Phase.VOTE2: "round 2 open", Phase.CLOSED2: "round 2 closed",
              Phase.REVEALED: "answer revealed", Phase.TWIN: "twin open",
              Phase.TWIN_CLOSED: "twin closed", Phase.TWIN_REVEALED: "twin revealed",
              Phase.POST: "post-test open", Phase.POST_CLOSED: "post-test closed"}

# the teacher's moves: from each phase that allows it, the phase it leads to
CLOSE, ROUND_TWO, REVEAL, TWIN = "close", "round two", "reveal", "twin"
MOVES: dict[str, dict[Phase, Phase]] = {
    CLOSE: {Phase.VOTE1: Phase.CLOSED1, Phase.VOTE2: Phase.CLOSED2,
            Phase.TWIN: Phase.TWIN_CLOSED, Phase.POST: Phase.POST_CLOSED},
    ROUND_TWO: {Phase.CLOSED1: Phase.VOTE2},
    REVEAL: {Phase.VOTE1: Phase.REVEALED, Phase.CLOSED1: Phase.REVEALED,
             Phase.VOTE2: Phase.REVEALED, Phase.CLOSED2: Phase.REVEALED,
             Phase.TWIN: Phase.TWIN_REVEALED, Phase.TWIN_CLOSED: Phase.TWIN_REVEALED},
    TWIN: {Phase.REVEALED: Phase.TWIN},
}


def next_phase(move: str, now: Phase) -> Phase:
    """The phase `move` leads to from `now`; WrongPhase with a sentence when it cannot."""
    to = MOVES[move].get(now)
    if to is None:
        raise WrongPhase(_refusal(move, now))
    return to


def _refusal(move: str, now: Phase) -> str:
    if move == CLOSE:
        return "This round is already closed."
    if now.is_post:
        return ("The post-test reveals nothing: close it, then read the class's gain in "
                "the room's results.")
    if move == REVEAL:
        return "The answer is already revealed."
    if move == ROUND_TWO:
        if now == Phase.VOTE1:
            return "Round 1 is still open: close it before starting round 2."
        if now in (Phase.VOTE2, Phase.CLOSED2):
            return "This question already has its round 2; reveal the answer next."
        return ("The answer is already revealed: a second round would re-ask a question "
                "whose answer is on the projector. Ask its twin instead.")
    if now.is_twin:
        return "The twin has already been asked."
    return "Reveal the answer before asking the twin."


def phase_of(phase: str | None, round: int, is_open: bool) -> Phase:
    """A stored phase; a room stored before phases existed gets one from its round."""
    if phase is not None and phase in Phase.__members__.values():
        return Phase(phase)
    if round <= FIRST:
        return Phase.VOTE1 if is_open else Phase.CLOSED1
    return Phase.VOTE2 if is_open else Phase.CLOSED2


# --- how sure a student is (optional): a sure answer that is wrong marks a misconception --

CONFIDENCES = ("sure", "fairly sure", "guessing")
SURE = CONFIDENCES[:2]  # what counts as confident in a confident-and-wrong answer


def checked_confidence(value: object) -> str | None:
    """`value` as a stored confidence (None: not given); RoomError when it is not one."""
    if value is None:
        return None
    if not isinstance(value, str) or value not in CONFIDENCES:
        raise RoomError(f"How sure you are is one of: {', '.join(CONFIDENCES)}.")
    return value
