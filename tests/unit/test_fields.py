"""One field contract (cnnviz.core.fields): the stack's depth, channels, input size, batch
and seed have their limits written once, and StackSpec, a link's values, the CLI and the
training read the same limits. A limit written again as a number in ui/, cli/ or a page
fails here. (The picker's widgets: tests/app/test_picker_fields.py.)"""
from __future__ import annotations

import ast
import operator
import re
from pathlib import Path

import pytest

from cnnviz.cli import build_parser
from cnnviz.cli.args import UsageError, spec_from_args
from cnnviz.cli.training import config_from_args
from cnnviz.core import fields
from cnnviz.core.blocks import REGISTRY
from cnnviz.core.checks import FieldError
from cnnviz.core.fields import (
    CHANNELS,
    DEPTH,
    HEIGHT,
    IMAGE_CHANNELS,
    SEED,
    STACK_FIELDS,
    TRAIN_BATCH,
    WIDTH,
    parse_input,
)
from cnnviz.core.network import NetworkSpec
from cnnviz.core.network import parse_input as parse_network_input
from cnnviz.core.spec import StackSpec
from cnnviz.topics.training import EPOCHS, TrainConfig
from cnnviz.ui.frame.picker import STACK_DEFAULTS, stack_from_query

ROOT = Path(__file__).resolve().parents[2]
BLOCK = "conv_bn_act"  # no limit of its own on any field
ALL = (*STACK_FIELDS, CHANNELS)


def create(field: fields.Field, value: object) -> StackSpec:
    """A stack with one field set (the channels are a block parameter)."""
    if field is CHANNELS:
        return StackSpec.create(BLOCK, {CHANNELS.name: value})
    return StackSpec.create(BLOCK, **{field.name: value})


def value_of(spec: StackSpec, field: fields.Field) -> int:
    return spec.in_channels if field is CHANNELS else getattr(spec, field.name)


def cli_spec(*argv: str) -> StackSpec:
    return spec_from_args(build_parser().parse_args(["report", BLOCK, *argv]))


def cli_value(field: fields.Field, value: int) -> StackSpec:
    """The CLI's `report` with one field set: --depth, --batch, --seed, or --input C,H,W."""
    if field in (CHANNELS, HEIGHT, WIDTH):
        shape = {CHANNELS.name: CHANNELS.default, HEIGHT.name: HEIGHT.default,
                 WIDTH.name: WIDTH.default, field.name: value}
        return cli_spec("--input", ",".join(str(shape[f.name]) for f in (CHANNELS, HEIGHT,
                                                                          WIDTH)))
    return cli_spec(f"--{field.name}", str(value))


# --- every reader takes the limits and refuses one past them --------------------------

@pytest.mark.parametrize("field", ALL, ids=lambda f: f.name)
def test_spec_cli_and_url_take_the_same_limits(field):
    for value in (field.low, field.high):
        assert value_of(create(field, value), field) == value
        assert value_of(create(field, str(value)), field) == value
        assert value_of(cli_value(field, value), field) == value
        if field is not CHANNELS:
            assert value_of(stack_from_query({field.name: str(value)}), field) == value
    assert value_of(StackSpec.create(BLOCK), field) == (
        REGISTRY[BLOCK].param(CHANNELS.name).default if field is CHANNELS else field.default)


@pytest.mark.parametrize("field", ALL, ids=lambda f: f.name)
@pytest.mark.parametrize("past", ["below", "above"])
def test_spec_cli_and_url_refuse_one_past_the_limits(field, past):
    value = field.low - 1 if past == "below" else field.high + 1
    said = f"{field.name} = {value} is out of range"
    readers = [lambda: create(field, value), lambda: cli_value(field, value)]
    if field is not CHANNELS:
        readers.append(lambda: stack_from_query({field.name: str(value)}))
    for read in readers:
        with pytest.raises(ValueError, match=said):
            read()


def test_the_picker_and_a_link_know_the_stack_fields_by_their_names():
    assert STACK_DEFAULTS == {f.name: f.default for f in STACK_FIELDS}
    assert [f.name for f in STACK_FIELDS] == ["depth", "height", "width", "batch", "seed"]
    for field in STACK_FIELDS:  # the spec's own defaults are the fields'
        assert getattr(StackSpec(BLOCK, ()), field.name) == field.default


def test_every_block_takes_the_channel_limits():
    for entry in REGISTRY.values():
        param = entry.param(CHANNELS.name)
        assert (param.low, param.high) == (CHANNELS.low, CHANNELS.high), entry.name


def test_the_cli_help_states_the_limits():
    report = build_parser()._subparsers._group_actions[0].choices["report"]  # type: ignore
    text = report.format_help()
    for field in (DEPTH, HEIGHT, CHANNELS, SEED):
        assert field.span in text, field.name


# --- the one input reader -------------------------------------------------------------

@pytest.mark.parametrize("text", ["3,32", "1,2,3,4", "a,b,c", "³,32,32", "", "3,,32"])
def test_one_input_reader_refuses_what_is_not_three_numbers(text):
    for read in (parse_input, parse_network_input):
        with pytest.raises(FieldError, match="C,H,W as three whole numbers"):
            read(text)
    with pytest.raises(ValueError, match="--input takes C,H,W"):
        cli_spec("--input", text)


def test_one_input_reader_checks_each_number_against_its_field():
    assert parse_input(" 16 x 8 x 4 ") == (16, 8, 4)
    assert parse_network_input("3,224,224") == (3, 224, 224)
    for text, field in ((f"{CHANNELS.high + 1},8,8", CHANNELS),
                        (f"3,{HEIGHT.high + 1},8", HEIGHT), (f"3,8,{WIDTH.high + 1}", WIDTH)):
        with pytest.raises(FieldError, match=f"{field.name} = .* is out of range"):
            parse_input(text)
    with pytest.raises(FieldError, match="channels = 65 is out of range"):
        parse_network_input(f"{IMAGE_CHANNELS.high + 1},224,224")
    with pytest.raises(FieldError, match="channels"):
        NetworkSpec.create("a=conv;flatten;linear", channels=IMAGE_CHANNELS.high + 1)


# --- training reads the same fields -----------------------------------------------------

def train_args(*argv: str):
    return build_parser().parse_args(["train", "resnet_basic", *argv])


@pytest.mark.parametrize("flag, field", [("--depth", DEPTH), ("--width", CHANNELS),
                                         ("--seed", SEED), ("--batch", TRAIN_BATCH),
                                         ("--epochs", EPOCHS)])
def test_training_flags_take_the_fields_limits(flag, field):
    config_from_args(train_args(flag, str(field.low)))  # accepted
    with pytest.raises(UsageError, match=f"{flag} = {field.high + 1} is out of range: use "
                                         f"{field.low} to {field.high}"):
        config_from_args(train_args(flag, str(field.high + 1)))


def test_a_training_config_checks_its_batch_and_epochs_with_the_fields():
    spec = StackSpec.create("resnet_basic")
    assert TrainConfig.create(spec).batch == TRAIN_BATCH.default
    for name, field in (("batch", TRAIN_BATCH), ("epochs", EPOCHS)):
        with pytest.raises(ValueError, match=f"{name} = {field.high + 1} is out of range"):
            TrainConfig.create(spec, **{name: field.high + 1})


# --- no limit written again as a number ----------------------------------------------------

# the limits no other number of the app shares by chance (64 and 100 are everywhere)
LIMITS = {f.high for f in (*ALL, TRAIN_BATCH)}
NAMES = re.compile(r"\b(depth|height|width|batch|seed|channels?|input|size)\b")
FOLD = {ast.Pow: operator.pow, ast.Sub: operator.sub, ast.Add: operator.add,
        ast.Mult: operator.mul}


def number(node: ast.AST) -> object:
    """A number written as a literal or a sum/power of literals (2**31 - 1), else None."""
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in FOLD:
        left, right = number(node.left), number(node.right)
        if isinstance(left, int) and isinstance(right, int) and right < 64:
            return FOLD[type(node.op)](left, right)
    return None


def words(node: ast.AST) -> str:
    """The text a node writes (a string, an f-string's literal parts), lower case."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value.lower()
    if isinstance(node, ast.JoinedStr):
        return " ".join(words(v) for v in node.values)
    return ""


SPAN = re.compile(r"\b\d+ *(?:-|to) *(\d+)\b")  # "1-200", "1 to 256"


def limit_literals(path: Path, root: Path = ROOT) -> list[str]:
    """Calls and tuples that name a field and write one of its limits as a number, and
    texts that write a limit as a range ("1-200")."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        where = f"{path.relative_to(root)}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if any(int(m) in LIMITS for m in SPAN.findall(node.value)):
                found.append(where)
            continue
        if isinstance(node, ast.Call):
            items = [*node.args, *(k.value for k in node.keywords)]
            named = " ".join([words(i) for i in items] + [k.arg or "" for k in node.keywords])
        elif isinstance(node, ast.Tuple):
            items = list(node.elts)
            named = " ".join(words(i) for i in items)
        else:
            continue
        if NAMES.search(named) and any(number(i) in LIMITS for i in items):
            found.append(where)
    return found


def test_no_field_limit_is_written_again_in_ui_cli_or_pages():
    files = [*(ROOT / "cnnviz" / "ui").rglob("*.py"), *(ROOT / "cnnviz" / "cli").rglob("*.py"),
             *(ROOT / "pages").glob("*.py")]
    assert len(files) > 30
    assert [hit for f in files for hit in limit_literals(f)] == []


def test_the_literal_check_finds_a_limit_written_again(tmp_path):
    """The check above is not vacuous: the lines it was written against are found."""
    bad = tmp_path / "bad.py"
    bad.write_text('p.add_argument("--depth", help="1-200")\n'
                   'w = parse_whole("--depth", text, 1, 200)\n'
                   'st.number_input("Input height H", 1, 1024, key="pick_height")\n'
                   'row = ("seed", "Seed", 0, 0, 2**31 - 1)\n'
                   'cols[2].number_input("width", 1, 4096, key=f"{key}_width")\n'
                   'ok = st.number_input("Epochs", 1, 30, 10)\n')
    found = [line.rsplit(":", 1)[1] for line in limit_literals(bad, tmp_path)]
    assert sorted(found, key=int) == ["1", "2", "3", "4", "5"]
