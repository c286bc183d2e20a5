"""A network as data: stages of parts, each part a stack of registry blocks or one layer.

Written as text for URLs and the CLI, one stage after another:

    stem=conv_bn_act:out_channels=64,kernel_size=7,stride=2,padding=3;maxpool:padding=1
    |layer1=resnet_basic*2:out_channels=64|...|head=adaptive_avgpool;flatten;linear

A part is `kind[*depth][:name=value,...]`; its input channels always come from the part
before it, so a stage can be moved, removed or widened without touching its neighbours.
"""
from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn as nn

from cnnviz.core.blocks import REGISTRY, Param
from cnnviz.core.blocks.registry import INITS, value_text
from cnnviz.core.checks import require as _require
from cnnviz.core.checks import whole_number
from cnnviz.core.errors import InputError, NetworkTextError
from cnnviz.core.fields import BATCH, DEPTH, HEIGHT, IMAGE_CHANNELS, SEED, WIDTH
from cnnviz.core.fields import parse_input as parse_shape
from cnnviz.core.network.layers import LAYERS
from cnnviz.core.spec import StackSpec, init_weights, zero_init_residual_branches


def require(ok: bool, message: str) -> None:
    """NetworkTextError(message) unless ok: what the network's text asks is refused."""
    _require(ok, message, NetworkTextError)


MAX_STAGES = 24
MAX_PARTS = 16  # per stage
MAX_BLOCKS = 300  # blocks and layers in the whole network
MAX_CLASSES = 100_000
MAX_TEXT = 4000  # characters of a network's text (it lives in a URL)
NAME = re.compile(r"[a-z][a-z0-9_]{0,23}$")
NOT_IN_PARTS = {"in_channels": "comes from the part before it",
                "init": "is chosen for the whole network"}
AFTER_FLATTEN = ("linear", "dropout", "act")  # the parts that take a vector
# A stage is a child module of the network: torch refuses names its modules already use.
TAKEN_NAMES = frozenset(dir(nn.Sequential()))


@dataclass(frozen=True)
class Part:
    """`depth` copies of a block, or one layer, with the arguments given (validated)."""

    kind: str
    args: tuple[tuple[str, Any], ...] = ()
    depth: int = 1

    @property
    def is_block(self) -> bool:
        return self.kind in REGISTRY

    def schema(self) -> tuple[Param, ...]:
        return REGISTRY[self.kind].params if self.is_block else LAYERS[self.kind].params

    def text(self) -> str:
        depth = f"*{self.depth}" if self.depth != 1 else ""
        args = ",".join(f"{k}={value_text(v)}" for k, v in self.args)
        return self.kind + depth + (f":{args}" if args else "")

    @property
    def values(self) -> dict[str, Any]:
        return dict(self.args)


@dataclass(frozen=True)
class Stage:
    name: str
    parts: tuple[Part, ...]

    def text(self) -> str:
        return f"{self.name}=" + ";".join(p.text() for p in self.parts)

    @property
    def blocks(self) -> int:
        return sum(p.depth for p in self.parts)


def make_part(kind: str, depth: Any = 1, **args: Any) -> Part:
    """A validated part; NetworkTextError with a sentence if the kind or an argument is wrong."""
    kind = str(kind).strip().lower()
    if kind not in REGISTRY and kind not in LAYERS:
        raise NetworkTextError(f"Unknown part {kind!r}: use a block "
                               f"({', '.join(sorted(REGISTRY))}) or a layer "
                               f"({', '.join(LAYERS)}).")
    part = Part(kind)
    schema = {p.name: p for p in part.schema()}
    typed = []
    for name, raw in args.items():
        if name in NOT_IN_PARTS:
            raise NetworkTextError(f"{kind}: {name} {NOT_IN_PARTS[name]}; leave it out.")
        if name not in schema:
            raise NetworkTextError(f"{kind} has no parameter {name!r}; it takes "
                                   f"{', '.join(n for n in schema if n not in NOT_IN_PARTS)}.")
        typed.append((name, schema[name].parse(raw)))
    steps = DEPTH.parse(depth)
    require(steps == 1 or part.is_block, f"{kind} is a layer: repeat it as separate parts, "
                                         f"not with *{steps}.")
    layer = None if part.is_block else LAYERS[kind]
    if layer and layer.check:
        layer.check({**layer.defaults(), **dict(typed)})
    return Part(kind, tuple(typed), steps)


def parse_part(text: str) -> Part:
    head, _, arg_text = text.strip().partition(":")
    kind, star, depth = head.partition("*")
    require(not star or bool(depth.strip()), f"{head!r}: give the depth after '*', e.g. "
                                             f"{kind.strip()}*2.")
    args: dict[str, str] = {}
    for item in filter(None, (a.strip() for a in arg_text.split(","))):
        key, eq, value = item.partition("=")
        require(bool(eq) and bool(key.strip()), f"{item!r} is not name=value.")
        require(key.strip() not in args, f"{key.strip()} is given twice.")
        args[key.strip()] = value.strip()
    return make_part(kind, depth or 1, **args)


def parse_stages(text: str) -> tuple[Stage, ...]:
    """Stages from their text; NetworkTextError naming the stage and part that is wrong."""
    require(len(text) <= MAX_TEXT, f"The network's text is {len(text):,} characters; the "
                                   f"limit is {MAX_TEXT:,}.")
    stages = []
    for i, chunk in enumerate(filter(None, (c.strip() for c in text.split("|"))), 1):
        name, eq, parts_text = chunk.partition("=")
        require(bool(eq), f"Stage {i} ({chunk[:30]!r}) must be written name=parts.")
        parts = []
        for j, part_text in enumerate(filter(None, (p.strip() for p in parts_text.split(";"))),
                                      1):
            try:
                parts.append(parse_part(part_text))
            except InputError as e:
                raise NetworkTextError(f"Stage {name.strip()!r}, part {j}: {e}") from None
        stages.append(make_stage(name, parts))
    return tuple(stages)


def make_stage(name: str, parts: Iterable[Part]) -> Stage:
    name = str(name).strip()
    require(bool(NAME.match(name)), f"Stage name {name[:30]!r} must be 1 to 24 lower-case "
                                    f"letters, digits or '_', starting with a letter.")
    require(name not in TAKEN_NAMES, f"Stage name {name!r} is taken: every torch module has "
                                     f"an attribute {name!r}. Choose another, e.g. "
                                     f"{name[:20]}_1.")
    parts = tuple(parts)
    require(0 < len(parts) <= MAX_PARTS, f"Stage {name!r} has {len(parts)} parts; give it 1 "
                                         f"to {MAX_PARTS}.")
    return Stage(name, parts)


@dataclass(frozen=True)
class NetworkSpec:
    """A whole network on an input of `channels` x `height` x `width` with `classes` outputs."""

    stages: tuple[Stage, ...]
    name: str = "custom"  # the preset it is, or "custom"
    channels: int = 3
    height: int = 224
    width: int = 224
    batch: int = 1
    classes: int = 1000
    seed: int = 0
    init: str = "kaiming_out"

    @classmethod
    def create(cls, stages: str | Iterable[Stage], name: str = "custom", channels: Any = 3,
               height: Any = 224, width: Any = 224, batch: Any = 1, classes: Any = 1000,
               seed: Any = 0, init: str = "kaiming_out") -> NetworkSpec:
        """Validate user input (strings allowed, as from a CLI or URL); InputError if bad."""
        stages = parse_stages(stages) if isinstance(stages, str) else tuple(stages)
        require(0 < len(stages) <= MAX_STAGES, f"A network has 1 to {MAX_STAGES} stages, not "
                                               f"{len(stages)}.")
        names = [s.name for s in stages]
        twice = sorted({n for n in names if names.count(n) > 1})
        require(not twice, f"Stage names must differ: {', '.join(twice)} appears twice.")
        blocks = sum(s.blocks for s in stages)
        require(blocks <= MAX_BLOCKS, f"The network has {blocks} blocks and layers; the limit "
                                      f"is {MAX_BLOCKS}.")
        require(init in INITS, f"init must be one of {', '.join(INITS)}, not {init!r}.")
        return cls(stages, name, IMAGE_CHANNELS.parse(channels), HEIGHT.parse(height),
                   WIDTH.parse(width), BATCH.parse(batch),
                   whole_number("classes", classes, 1, MAX_CLASSES), SEED.parse(seed), init)

    @property
    def input_shape(self) -> tuple[int, int, int, int]:
        return (self.batch, self.channels, self.height, self.width)

    def text(self) -> str:
        return "|".join(s.text() for s in self.stages)

    def replace(self, **changes: Any) -> NetworkSpec:
        """A copy with fields changed (validated again); a changed architecture is custom."""
        fields = {k: getattr(self, k) for k in ("stages", "name", "channels", "height", "width",
                                                 "batch", "classes", "seed", "init")}
        fields.update(changes)
        if "stages" in changes and "name" not in changes:
            fields["name"] = "custom"
        return NetworkSpec.create(**fields)

    def label(self) -> str:
        return (f"{self.name} on {self.channels}x{self.height}x{self.width}, "
                f"{self.classes} classes")


# --- building -------------------------------------------------------------------------

def _part_modules(part: Part, channels: int, classes: int) -> tuple[list[nn.Module], int]:
    """The modules of one part on `channels` inputs, and the channels it gives."""
    if part.is_block:
        stack = StackSpec.create(part.kind, {**part.values, "in_channels": channels},
                                 depth=part.depth)
        configs = stack.block_configs()
        return [stack.entry.build(c) for c in configs], \
            stack.entry.output_channels(configs[-1])
    layer = LAYERS[part.kind]
    args = {**layer.defaults(), **part.values}
    out = layer.channels_out(args, channels, classes) if layer.channels_out else channels
    return [layer.build(args, channels, classes)], out


def _structure(spec: NetworkSpec) -> nn.Sequential:
    """The network's modules, stage by stage: children `<stage>.<i>` for each block or layer."""
    network = nn.Sequential()
    channels, grid = spec.channels, None  # grid: the map's known size (after an adaptive pool)
    flat = False
    for stage in spec.stages:
        modules: list[nn.Module] = []
        for j, part in enumerate(stage.parts, 1):
            try:
                require(not flat or part.kind in AFTER_FLATTEN,
                        "A network can flatten only once." if part.kind == "flatten" else
                        f"{part.kind} needs a C x H x W map, but a flatten before it made the "
                        f"map a vector; move it before the flatten.")
                if part.kind == "flatten":  # the vector's length needs the map's size
                    h, w = grid or _map_size(network, stage.name, nn.Sequential(*modules), spec)
                    channels *= h * w
                    flat = True
                built, channels = _part_modules(part, channels, spec.classes)
            except InputError as e:
                raise NetworkTextError(f"Stage {stage.name!r}, part {j} ({part.kind}): "
                                       f"{e}") from None
            modules += built
            if part.kind == "adaptive_avgpool":
                grid = (part.values.get("size", 1),) * 2
            elif part.kind not in ("norm", "act", "dropout"):  # these keep the size known
                grid = None
        network.add_module(stage.name, nn.Sequential(*modules))
    return network


def _map_size(network: nn.Sequential, stage: str, current: nn.Sequential, spec: NetworkSpec
              ) -> tuple[int, int]:
    """The map's H x W at the end of what is built so far (`current`: the parts of `stage`
    before this one)."""
    from cnnviz.core.walk import predict
    prefix = nn.Sequential(OrderedDict([*network.named_children(), (stage, current)]))
    shape = predict(prefix, spec.input_shape).output_shape
    return shape[2], shape[3]


def build_network(spec: NetworkSpec, device: str | torch.device = "cpu") -> nn.Sequential:
    """The real torch network, initialized from spec.seed alone; on the meta device the
    structure alone (what the predicted walk and the budget need)."""
    if torch.device(device).type == "meta":
        with torch.device("meta"):
            return _structure(spec)
    model = _structure(spec)
    init_weights(model, spec.init, torch.Generator().manual_seed(spec.seed))
    for stage, module in zip(spec.stages, model.children()):
        children, i = list(module.children()), 0
        for part in stage.parts:  # a part is `depth` children (a layer is one)
            if part.values.get("zero_init_last"):
                for block in children[i:i + part.depth]:
                    zero_init_residual_branches(block)
            i += part.depth
    return model.to(device)


def stage_blocks(spec: NetworkSpec, stage: Stage) -> list[tuple[str, str]]:
    """(child name, what it is) for each block or layer of a stage, in order."""
    rows, i = [], 0
    for part in stage.parts:
        for _ in range(part.depth):
            rows.append((f"{stage.name}.{i}", part.kind))
            i += 1
    return rows


def parse_input(text: str) -> tuple[int, int, int]:
    """A network's input '3,224,224' -> (3, 224, 224): the one C,H,W reader
    (cnnviz.core.fields), C an image's channels."""
    return parse_shape(text, IMAGE_CHANNELS)

