"""The design challenge: its tables on SQLite and a real PostgreSQL (skipped without its
binaries, except under CI=true), the server's numbers against torch's, the budget's
refusals, one active design per student, a restart's trainings queued again or failed,
the teacher's secret, hostile nicknames, the private split and the Pareto front."""
from __future__ import annotations

import time

import pytest
import torch
from sqlalchemy import create_engine, inspect, text
from support_pg import postgres_server, require

from cnnviz.core.errors import InputError
from cnnviz.core.measure import measure
from cnnviz.store import ChallengeStore, NotTeacher, RoomError, RoomStore
from cnnviz.store.challenges import MAX_ATTEMPTS, MAX_SUBMISSIONS
from cnnviz.store.database import SCHEMA_VERSION
from cnnviz.topics import challenge as ch
from cnnviz.topics.challenge_worker import train_one
from cnnviz.topics.training import make_classifier

ALICE, BOB, CAROL = "a" * 32, "b" * 32, "c" * 32
TABLES = ("submissions", "challenge_players", "challenges", "challenge_weights", "answers",
          "rooms", "schema_version")
SMALL = ch.Design.create("conv_bn_act", 1, 8, 3, 1, 1, 8)


@pytest.fixture(scope="module")
def postgres_url():
    require()
    with postgres_server() as url:
        yield url


def _engine(url: str):
    return create_engine(url.replace("postgresql:", "postgresql+psycopg:", 1)
                         if url.startswith("postgresql:") else url)


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'challenge.sqlite3'}"
    found = request.getfixturevalue("postgres_url")
    engine = _engine(found)
    with engine.begin() as c:  # each test starts from no tables at all
        for table in TABLES:
            c.execute(text(f"DROP TABLE IF EXISTS {table}"))
    engine.dispose()
    return found


@pytest.fixture
def store(url):
    found = ChallengeStore(url)
    yield found
    found.engine.dispose()


def _open(store: ChallengeStore, **budget):
    values = dict(size=8, max_params=5000, max_macs=200_000, max_epochs=2, minutes=10)
    return store.open_challenge(**{**values, **budget})


def _send(store, code, student, nickname="Ada", design=SMALL):
    cost = ch.cost(design, 8)
    return store.submit(code, student, nickname, design.to_json(), cost.params, cost.macs)


def test_a_design_goes_through_the_queue(store):
    found, _ = _open(store)
    sent = _send(store, found.code, ALICE)
    assert (sent.status, sent.nickname, sent.attempts) == ("queued", "Ada", 0)
    assert sent.spec == SMALL.to_json() and store.queue_place(sent.id) == 1
    second = _send(store, found.code, BOB, "Bob")
    assert store.queue_place(second.id) == 2 and store.waiting() == 2
    claimed = store.claim()
    assert claimed is not None and claimed.id == sent.id and claimed.status == "training"
    assert store.queue_place(sent.id) is None and store.queue_place(second.id) == 1
    assert store.beat(sent.id)
    store.finish(sent.id, 0.75, 0.5)
    done = store.submission(sent.id)
    assert (done.status, done.public, done.private, done.attempts) == ("done", 0.75, 0.5, 1)
    assert [s.id for s in store.submissions(found.code)] == [sent.id, second.id]
    assert [s.id for s in store.submissions(found.code, BOB)] == [second.id]


def test_one_active_design_per_student_and_a_limit(store):
    found, _ = _open(store)
    first = _send(store, found.code, ALICE)
    with pytest.raises(RoomError, match="still queued or training"):
        _send(store, found.code, ALICE)
    assert store.withdraw(found.code, ALICE) == 1
    assert store.submission(first.id).status == "withdrawn"
    for _ in range(MAX_SUBMISSIONS - 1):
        s = _send(store, found.code, ALICE)
        store.fail(s.id, "for the test")
    with pytest.raises(RoomError, match=f"sent {MAX_SUBMISSIONS} designs"):
        _send(store, found.code, ALICE)
    assert len(store.submissions(found.code, ALICE)) == MAX_SUBMISSIONS


def test_a_withdrawn_training_stops_at_its_next_heartbeat(store):
    found, _ = _open(store)
    sent = _send(store, found.code, ALICE)
    store.claim()
    store.withdraw(found.code, ALICE)
    assert not store.beat(sent.id)
    store.finish(sent.id, 0.9, 0.9)  # a worker that finishes anyway changes nothing
    assert store.submission(sent.id).status == "withdrawn"


def test_a_training_cut_by_a_restart_is_queued_again_then_failed(store):
    found, _ = _open(store)
    sent = _send(store, found.code, ALICE)
    store.claim()
    assert store.recover(now=time.time()) == 0  # its heartbeat is fresh: still training
    later = time.time() + 3600
    assert store.recover(now=later) == 1
    again = store.submission(sent.id)
    assert again.status == "queued" and "queued again" in again.message
    for _ in range(MAX_ATTEMPTS - 1):
        store.claim()
        store.recover(now=later)
    failed = store.submission(sent.id)
    assert failed.status == "failed" and f"{MAX_ATTEMPTS} times" in failed.message
    assert failed.attempts == MAX_ATTEMPTS


def test_a_forged_secret_changes_nothing(store):
    found, secret = _open(store)
    for forged in ("", "forged", secret + "x", secret.upper()):
        for action in (store.close, store.reveal_private, store.check_teacher):
            with pytest.raises(NotTeacher):
                action(found.code, forged)
    now = store.challenge(found.code)
    assert now.is_open() and not now.revealed
    assert store.reveal_private(found.code, secret).revealed
    assert not store.challenge(found.code).is_open()
    with pytest.raises(RoomError, match="closed"):
        _send(store, found.code, ALICE)


def test_unknown_and_malformed_codes_are_sentences(store):
    for code in ("ZZZZZZ", "[x](http://e.vil)", "0OO1II", ""):
        with pytest.raises(RoomError):
            store.challenge(code)
        with pytest.raises(RoomError):
            _send(store, code, ALICE)


@pytest.mark.parametrize("nickname, stored", [
    ("<img src=x onerror=f()>", "<img src=x onerror=f()>"),
    ("  Ada \n\t Lovelace  ", "Ada Lovelace"),
    ("\u202eevil\u0000", "evil"),
    ("李小龍 🐉", "李小龍 🐉"),
])
def test_a_nickname_is_kept_as_text(store, nickname, stored):
    found, _ = _open(store)
    assert _send(store, found.code, ALICE, nickname).nickname == stored


@pytest.mark.parametrize("nickname", ["", "   ", "\u0000\u0001", "x" * 25, "y" * 100_000])
def test_a_nickname_that_is_empty_or_too_long_is_refused(store, nickname):
    found, _ = _open(store)
    with pytest.raises(RoomError, match="nickname"):
        _send(store, found.code, ALICE, nickname)
    assert store.submissions(found.code) == []


def test_a_nickname_is_one_students_in_a_challenge(store):
    found, _ = _open(store)
    first = _send(store, found.code, ALICE, "Ada")
    for taken in ("Ada", "ADA", " ada "):
        with pytest.raises(RoomError, match="Another student has this nickname"):
            _send(store, found.code, BOB, taken)
    store.fail(first.id, "for the test")
    assert _send(store, found.code, ALICE, "ada").nickname == "ada"  # their own, again
    other, _ = _open(store)
    assert _send(store, other.code, BOB, "Ada").nickname == "Ada"  # another challenge


def test_an_older_database_gains_the_challenge_tables(url):
    rooms = RoomStore(url)
    with rooms.engine.begin() as c:
        for table in TABLES[:4]:
            c.execute(text(f"DROP TABLE {table}"))
        c.execute(text("UPDATE schema_version SET version = 3"))  # before the challenges
    rooms.engine.dispose()
    store = ChallengeStore(url)
    assert store.schema_version() == SCHEMA_VERSION == 5
    with store.engine.connect() as c:
        assert set(TABLES[:4]) <= set(inspect(c).get_table_names())
    found, _ = _open(store)
    assert _send(store, found.code, ALICE).status == "queued"
    store.engine.dispose()


# --- the numbers: the server's own, and torch's ------------------------------------------

@pytest.mark.parametrize("block", ch.BLOCKS)
@pytest.mark.parametrize("size, stride", [(8, 1), (16, 2)])
def test_the_server_counts_what_torch_measures(block, size, stride):
    design = ch.Design.create(block, 2, 8, 3, stride, 1, size)
    cost = ch.cost(design, size)
    model = make_classifier(design.config(size).stack).eval()
    measured = measure(model, (1, 1, size, size))
    assert cost.params == measured.params == sum(p.numel() for p in model.parameters())
    assert 2 * cost.macs == measured.flops


def test_over_budget_designs_are_refused_with_a_sentence():
    cost = ch.cost(SMALL, 8)
    fits = ch.Budget(8, cost.params, cost.macs, 1)
    assert ch.checked(SMALL, fits) == cost  # exactly at the budget: taken
    for budget, says in ((ch.Budget(8, cost.params - 1, cost.macs, 1), "parameters"),
                         (ch.Budget(8, cost.params, cost.macs - 1, 1), "MACs per image")):
        with pytest.raises(InputError, match=says) as refused:
            ch.checked(SMALL, budget)
        assert f"{cost.params:,}" in str(refused.value) or f"{cost.macs:,}" in \
            str(refused.value)
    longer = ch.Design.create("conv_bn_act", 1, 8, 3, 1, 2, 8)
    with pytest.raises(InputError, match="epochs"):
        ch.checked(longer, fits)


@pytest.mark.parametrize("fields", [
    dict(block="conv_bn_act", depth=0, width=8, kernel=3, stride=1, epochs=1),
    dict(block="conv_bn_act", depth=1, width=1_000_000, kernel=3, stride=1, epochs=1),
    dict(block="unet", depth=1, width=8, kernel=3, stride=1, epochs=1),
    dict(block="conv_bn_act", depth=1, width=8, kernel=9, stride=1, epochs=1),
    dict(block="conv_bn_act", depth=1, width=8, kernel=3, stride=3, epochs=1),
    dict(block="conv_bn_act", depth="1e9", width=8, kernel=3, stride=1, epochs=1),
    dict(block="conv_bn_act", depth=1, width=8, kernel=3, stride=1, epochs=10**9),
    dict(block=["conv_bn_act"], depth=1, width=8, kernel=3, stride=1, epochs=1),
    dict(block="conv_bn_act", depth=1, width=8, kernel=True, stride=1, epochs=1),
    dict(block="conv_bn_act", depth=1, width=8, kernel=3, stride=True, epochs=1),
])
def test_a_design_at_or_past_every_limit_is_a_sentence(fields):
    with pytest.raises(InputError):
        ch.Design.from_json(fields, 8)


@pytest.mark.parametrize("data", [None, "conv", [], {"block": "conv_bn_act"},
                                  {**SMALL.to_json(), "lr": 10}])
def test_a_design_that_is_not_one_is_a_sentence(data):
    with pytest.raises(InputError, match="A design names"):
        ch.Design.from_json(data, 8)


def test_the_private_split_is_fixed_disjoint_and_balanced():
    from cnnviz.core.datasets import load_dataset

    for size in (8, 16):
        private = ch.private_mask(size)
        labels = load_dataset("digits", size).y_test.numpy()
        assert len(private) == 450 and 220 <= private.sum() <= 230
        for digit in range(10):
            mine = private[labels == digit]
            assert abs(int(mine.sum()) - int((~mine).sum())) <= 1
    assert (ch.private_mask(8) == ch.private_mask(16)).all()


def test_the_pareto_front():
    points = [(10, 0.5), (20, 0.6), (15, 0.4), (20, 0.6), (30, 0.55), (5, 0.1)]
    assert ch.pareto_front(points) == [5, 0, 1, 3]
    assert ch.pareto_front([]) == []
    assert ch.pareto_front([(1, 0.0)]) == [0]
    assert ch.pareto_front([(1, 0.9), (2, 0.8), (3, 0.7)]) == [0]


def test_a_worker_trains_and_scores_a_design(tmp_path):
    store = ChallengeStore(f"sqlite:///{tmp_path / 'worker.sqlite3'}")
    found, _ = _open(store)
    sent = _send(store, found.code, ALICE)
    done = train_one(store)
    assert done is not None and done.id == sent.id and done.status == "done", done
    assert 0 <= done.public <= 1 and 0 <= done.private <= 1
    run_public, run_private = ch.scores(_train_again())
    assert (done.public, done.private) == (run_public, run_private)  # the fixed recipe
    assert train_one(store) is None


def _train_again():
    from cnnviz.topics.training import train

    torch.manual_seed(12345)  # the recipe draws nothing from the global generator
    return train(SMALL.config(8))
