"""The server's challenge workers: they train the queued designs, one at a time per
training slot, in every process that serves a challenge page.

A worker claims the oldest queued design of the database (one atomic update: of several
processes, one wins), trains it in one of the training slots Train your own uses
(cnnviz.deploy.heavy.TRAINING_SLOTS, so a class that trains never makes the other pages
wait), writes a heartbeat every few seconds while it trains, and stores the accuracy on
the public and the private split, with the trained weights (kept, bounded, for Trained
Networks: cnnviz.store.challenge_weights). A design its author stopped ends at the next
heartbeat. Before each claim, trainings whose heartbeat stopped (their server was
stopped or killed) are queued again or failed with a sentence (ChallengeStore.recover).
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from cnnviz.core.errors import InputError
from cnnviz.deploy.heavy import TRAINING_SLOTS, hold_slot
from cnnviz.store.challenges import ChallengeStore, Submission
from cnnviz.store.errors import RoomError
from cnnviz.topics.challenge import design_of, scores
from cnnviz.topics.challenge_entries import entry_bytes
from cnnviz.topics.training import train

BEAT_S = 2.0     # a training's heartbeat, and how often it looks whether it was stopped
IDLE_S = 1.0     # a worker with nothing queued looks again after this
RECOVER_S = 10.0  # how often a process looks for trainings whose heartbeat stopped
log = logging.getLogger(__name__)
_started: dict[str, tuple[threading.Event, list[threading.Thread]]] = {}
_lock = threading.Lock()
_recovered: dict[str, float] = {}  # store's url -> when this process last recovered


class Stopped(Exception):
    """The design was stopped by its author (or is no longer this worker's)."""


def train_one(store: ChallengeStore, device: str = "cpu") -> Submission | None:
    """Recover stale trainings; then, in a training slot, claim the next queued design and
    train it to the end (or to a failure, stored with its sentence). The design as stored
    after, or None when nothing was queued."""
    _recover(store)
    if not store.waiting():
        return None
    with hold_slot(None, TRAINING_SLOTS):  # claimed only once a slot is ours: it beats
        claimed = store.claim()
        if claimed is None:
            return None  # another worker took it meanwhile
        try:
            challenge = store.challenge(claimed.code)
            design = design_of(claimed.spec, challenge.size)
            run = train(design.config(challenge.size), device, _beats(store, claimed.id))
            public, private = scores(run)
            store.finish(claimed.id, public, private, entry_bytes(run))
        except Stopped:
            pass  # withdrawn: the store already says so
        except InputError as e:  # a sentence: it cannot be trained (or the store failed)
            _fail(store, claimed.id, f"It was not trained: {e}")
        except Exception as e:  # a bug: the student gets a sentence, the log the trace
            log.exception("training challenge design %s failed", claimed.id)
            _fail(store, claimed.id, f"The training failed on the server "
                                     f"({type(e).__name__}); send it again or tell your "
                                     f"teacher.")
    return store.submission(claimed.id)


def _recover(store: ChallengeStore) -> None:
    """store.recover(), at most once every RECOVER_S in this process (it writes)."""
    now = time.monotonic()
    with _lock:
        if now - _recovered.get(store.url, -RECOVER_S) < RECOVER_S:
            return
        _recovered[store.url] = now
    store.recover()


def _fail(store: ChallengeStore, id: int, message: str) -> None:
    try:
        store.fail(id, message)
    except RoomError:
        log.warning("could not store the failure of challenge design %s", id)


def _beats(store: ChallengeStore, id: int) -> Callable[[int, int], None]:
    """The training's on_step: a heartbeat every BEAT_S; Stopped when it was withdrawn."""
    last = [time.monotonic()]

    def on_step(step: int, steps: int) -> None:
        now = time.monotonic()
        if now - last[0] >= BEAT_S:
            last[0] = now
            if not store.beat(id):
                raise Stopped()
    return on_step


def _loop(store: ChallengeStore, device: str, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            if train_one(store, device) is None:
                stop.wait(IDLE_S)
        except RoomError:  # the database is unavailable: try again in a moment
            stop.wait(5 * IDLE_S)
        except Exception:
            log.exception("the challenge worker failed; it goes on")
            stop.wait(5 * IDLE_S)


def ensure_workers(store: ChallengeStore, device: str = "cpu") -> int:
    """Start this process's workers for `store` (one per training slot) unless they run;
    how many run."""
    with _lock:
        stop, threads = _started.get(store.url, (threading.Event(), []))
        alive = [t for t in threads if t.is_alive()]
        for i in range(len(alive), TRAINING_SLOTS.size):
            thread = threading.Thread(target=_loop, args=(store, device, stop), daemon=True,
                                      name=f"cnnviz-challenge-{i}")
            thread.start()
            alive.append(thread)
        _started[store.url] = (stop, alive)
        return len(alive)


def stop_workers(timeout: float = 30.0) -> None:
    """Stop every worker of this process after its current training (tests, shutdown)."""
    with _lock:
        started = list(_started.values())
        _started.clear()
    for stop, _ in started:
        stop.set()
    for _, threads in started:
        for thread in threads:
            thread.join(timeout)
