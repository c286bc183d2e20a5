# ruff: noqa: F811  (the store fixture is imported from test_challenge)
"""A challenge's trained weights kept on the database, bounded, and opened again as the same
network; designs written in the Networks page's text, counted by the server as torch
measures them, and refused with a sentence when they are not a digits classifier."""
from __future__ import annotations

import pytest
import torch
from test_challenge import ALICE, BOB, CAROL, _open, postgres_url, store, url  # noqa: F401

from cnnviz.core.errors import InputError
from cnnviz.core.measure import measure
from cnnviz.store import challenge_weights as kept
from cnnviz.store.challenge_weights import WeightsDropped
from cnnviz.topics import challenge as ch
from cnnviz.topics.challenge_entries import entry_bytes, entry_run
from cnnviz.topics.challenge_worker import train_one
from cnnviz.topics.training import make_model

TEXT = "stem=conv_bn_act:out_channels=6|body=resnet_basic:out_channels=6" \
       "|head=adaptive_avgpool;flatten;linear"


def _send(store, code, student, nickname, design):
    cost = ch.cost(design, 8)
    return store.submit(code, student, nickname, design.to_json(), cost.params, cost.macs)


def _finish(store, sent, public, size=1000):
    assert store.claim().id == sent.id
    store.finish(sent.id, public, public, (b"w" * size, b"{}"))


def test_the_weights_trained_are_kept_and_load_into_the_same_network(store):
    found, _ = _open(store)
    design = ch.Design.create("resnet_basic", 1, 6, 3, 1, 1, 8)
    sent = _send(store, found.code, ALICE, "Ada", design)
    done = train_one(store)
    assert done.status == "done" and done.id == sent.id
    weights, record = store.weights(found.code, sent.id)
    run = entry_run(design, 8, weights, record)
    assert ch.scores(run) == (done.public, done.private)  # the same network, the same scores
    assert len(run.epochs) == 1 and run.layers
    with pytest.raises(InputError, match="do not load"):  # another design's weights
        entry_run(ch.Design.create("resnet_basic", 1, 8, 3, 1, 1, 8), 8, weights, record)
    with pytest.raises(InputError, match="do not load"):
        entry_run(design, 8, weights[:-100], record)


def test_a_challenge_keeps_the_best_designs_weights_and_says_when_one_was_dropped(
        store, monkeypatch):
    monkeypatch.setattr(kept, "KEEP", 2)
    found, _ = _open(store)
    small = ch.Design.create("conv_bn_act", 1, 4, 3, 1, 1, 8)
    sent = {}
    for student, name, public in ((ALICE, "Ada", 0.5), (BOB, "Bob", 0.9),
                                  (CAROL, "Cy", 0.7)):
        sent[name] = _send(store, found.code, student, name, small)
        _finish(store, sent[name], public)
    assert store.kept_weights(found.code) == {sent["Bob"].id, sent["Cy"].id}
    with pytest.raises(WeightsDropped, match="no longer kept") as dropped:
        store.weights(found.code, sent["Ada"].id)
    assert "2 best designs" in str(dropped.value)
    assert store.weights(found.code, sent["Bob"].id)[0] == b"w" * 1000
    assert store.submission(sent["Ada"].id).public == 0.5  # its scores stay


def test_the_bytes_kept_are_bounded_per_design_and_per_challenge(store, monkeypatch):
    monkeypatch.setattr(kept, "KEEP_BYTES", 2000)
    found, _ = _open(store)
    small = ch.Design.create("conv_bn_act", 1, 4, 3, 1, 1, 8)
    first = _send(store, found.code, ALICE, "Ada", small)
    _finish(store, first, 0.9, size=kept.MAX_BYTES)  # one design too large: not kept
    assert store.kept_weights(found.code) == set()
    ids = []
    for student, name, public in ((BOB, "Bob", 0.8), (CAROL, "Cy", 0.6)):
        ids.append(_send(store, found.code, student, name, small).id)
        _finish(store, store.submission(ids[-1]), public, size=1200)
    assert store.kept_weights(found.code) == {ids[0]}  # 2 × 1,202 bytes > 2,000
    with store._tx() as c:
        assert kept.total(c, found.code) == 1202


def test_the_weights_go_with_their_challenge(store):
    found, _ = _open(store)
    sent = _send(store, found.code, ALICE, "Ada", ch.Design.create("conv_bn_act", 1, 4, 3,
                                                                    1, 1, 8))
    _finish(store, sent, 0.5)
    assert store.purge(now=found.expires + 1) == 1
    with store._tx() as c:
        assert kept.kept(c, found.code) == set()


# --- designs written as a network's text ---------------------------------------------------

@pytest.mark.parametrize("size", [8, 16, 32])
def test_a_network_text_is_counted_as_torch_measures_it(size):
    design = ch.TextDesign.create(TEXT, 1, size)
    cost = ch.cost(design, size)
    model = make_model(design.config(size)).eval()
    measured = measure(model, (1, 1, size, size))
    assert cost.params == measured.params == sum(p.numel() for p in model.parameters())
    assert 2 * cost.macs == measured.flops
    assert model(torch.zeros(2, 1, size, size)).shape == (2, 10)
    assert ch.design_of(design.to_json(), size) == design


@pytest.mark.parametrize("text, says", [
    ("", "Write a network"),
    ("hello", "must be written name=parts"),
    ("stem=conv_bn_act:out_channels=8|head=adaptive_avgpool;flatten", "ends in 8 numbers"),
    ("stem=conv_bn_act:out_channels=8", "ends in 8×8×8 numbers"),
    ("stem=conv:out_channels=4,kernel_size=11|head=flatten;linear", "spans 11 pixels"),
    ("stem=nonsense", "Unknown part"),
    ("x=" + "conv;" * 2000, "characters"),
])
def test_a_text_that_is_not_a_digits_network_is_a_sentence(text, says):
    with pytest.raises(InputError, match=says):
        ch.TextDesign.create(text, 1, 8)


def test_a_text_design_over_the_budget_is_refused_and_one_within_is_trained(store):
    found, _ = _open(store)
    wide = ch.TextDesign.create(TEXT.replace("=6", "=64"), 1, 8)
    with pytest.raises(InputError, match="parameters; the budget is 5,000"):
        ch.checked(wide, ch.Budget(8, 5000, 200_000, 2))
    design = ch.TextDesign.create(TEXT, 1, 8)
    cost = ch.checked(design, ch.Budget(8, 5000, 200_000, 2))
    sent = store.submit(found.code, ALICE, "Ada", design.to_json(), cost.params, cost.macs)
    done = train_one(store)
    assert (done.id, done.status) == (sent.id, "done") and 0 <= done.public <= 1
    run = entry_run(design, 8, *store.weights(found.code, sent.id))
    assert ch.scores(run) == (done.public, done.private)


def test_entry_bytes_round_trip_the_record():
    design = ch.Design.create("conv_bn_act", 1, 4, 3, 1, 1, 8)
    from cnnviz.topics.training import train
    run = train(design.config(8))
    again = entry_run(design, 8, *entry_bytes(run))
    assert again.epochs == run.epochs and again.train_accuracy == run.train_accuracy


# --- what rooms and challenges share ----------------------------------------------------

def test_codes_and_secrets_are_checked_alike_for_rooms_and_challenges(url):
    from cnnviz.store import ChallengeStore, NotTeacher, RoomError, RoomStore
    from cnnviz.store.codes import normal_code

    assert normal_code(" k7q-x2m ", "challenge") == "K7QX2M"
    with pytest.raises(RoomError, match="A challenge code is 6 letters"):
        normal_code("K7QX2", "challenge")
    rooms, challenges = RoomStore(url), ChallengeStore(url)
    room, room_secret = rooms.open_room("output_size", 1)
    found, secret = challenges.open_challenge(8, 5000, 200_000, 2, 10)
    assert challenges.check_teacher(found.code, secret).code == found.code
    assert rooms.teacher_room(room.code, room_secret).code == room.code
    for forged in ("", "forged", None, 7, room_secret):
        with pytest.raises(NotTeacher, match="this challenge"):
            challenges.check_teacher(found.code, forged)
    for forged in ("", "forged", None, 7, secret):
        with pytest.raises(NotTeacher, match="this room"):
            rooms.teacher_room(room.code, forged)
    assert rooms.purge(now=room.expires + 1) == 1 and challenges.purge(
        now=found.expires + 1) == 1
    for engine in (rooms.engine, challenges.engine):
        engine.dispose()
