"""What a teacher points at in a whole network, computed from its report.

Where the parameters and the MACs go (by kind of layer), the facts of the classic
networks (VGG's fully connected layers, MobileNet's pointwise MACs, the stage where the
receptive field outgrows the image, DenseNet's growing channels), every preset's totals
for the chart across networks, and the gradient probe of a plain network against its
residual twin.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn as nn

from cnnviz.core.blocks import REGISTRY
from cnnviz.core.budget import FORWARD_BACKWARD, check
from cnnviz.core.errors import InputError
from cnnviz.core.kinds import node_modules
from cnnviz.core.network import PRESETS, NetworkSpec, build_network
from cnnviz.core.network.report import NetworkReport, StageRow, network_prediction
from cnnviz.core.network.spec import Stage, make_part, make_stage, stage_blocks
from cnnviz.topics.gradflow import StackFlow, probe_blocks, weighted_layers

# The kinds of weighted layer, in the order charts list them.
OTHER = "norm and scale"  # the rest with weights: BatchNorm, LayerNorm, ConvNeXt's layer scale
LAYER_KINDS = ("full k×k conv", "pointwise 1×1 conv", "depthwise conv", "grouped conv",
               "fully connected", OTHER)


def layer_kind(m: nn.Module) -> str:
    """Which kind of weighted layer `m` is, for the breakdowns."""
    if isinstance(m, nn.Linear):
        return "fully connected"
    if isinstance(m, nn.Conv2d):
        if m.groups > 1 and m.groups == m.in_channels:
            return "depthwise conv"
        if m.groups > 1:
            return "grouped conv"
        return "pointwise 1×1 conv" if m.kernel_size == (1, 1) else "full k×k conv"
    return OTHER


def breakdown(report: NetworkReport) -> dict[str, dict[str, int]]:
    """{"params": {kind: n}, "macs": {kind: n}} over the network's rows (kinds with any)."""
    modules = node_modules(report.model)
    out: dict[str, dict[str, int]] = {"params": {}, "macs": {}}
    for row in report.predicted.layers:
        if not (row.params or row.macs):
            continue
        kind = layer_kind(modules[row.name]) if row.name in modules else OTHER
        for key, value in (("params", row.params), ("macs", row.macs)):
            if value:
                out[key][kind] = out[key].get(kind, 0) + value
    return {key: {k: v[k] for k in LAYER_KINDS if k in v} for key, v in out.items()}


def share(part: int, whole: int) -> float:
    return 100.0 * part / whole if whole else 0.0


def facts(report: NetworkReport) -> list[str]:
    """The sentences a teacher would say about this network, from its numbers."""
    p, title = report.predicted, _title(report.spec)
    split = breakdown(report)
    said = []
    fc_params = split["params"].get("fully connected", 0)
    if share(fc_params, p.params) > 50:
        linears = sum(1 for x in p.layers if x.kind == "Linear")
        said.append(
            f"{title}'s {linears} fully connected layers hold {share(fc_params, p.params):.0f}% "
            f"of its {p.params / 1e6:.1f} M parameters but do only "
            f"{share(split['macs'].get('fully connected', 0), p.macs):.1f}% of its MACs: "
            f"the convolutions do the work with a few of the weights.")
    dw = split["macs"].get("depthwise conv", 0)
    if dw:
        pw = split["macs"].get("pointwise 1×1 conv", 0)
        said.append(
            f"Pointwise 1×1 convolutions do {share(pw, p.macs):.0f}% of {title}'s MACs and "
            f"the depthwise ones only {share(dw, p.macs):.0f}%: filtering each channel in "
            f"space is cheap, mixing channels is where the cost went.")
    said.append(_field_fact(report))
    said += _dense_facts(report)
    return said


def _title(spec: NetworkSpec) -> str:
    preset = PRESETS.get(spec.name)
    return preset.title if preset else "This network"


def _global_map_stage(report: NetworkReport) -> StageRow | None:
    """The first stage that still keeps a feature map but whose every output already
    depends on the whole input (a global pooling inside its blocks), or None."""
    return next((s for s in report.stages if len(s.output_shape) == 3
                 and s.receptive_field.is_global), None)


def _global_cause(stage: StageRow) -> str:
    """Why a map stage's field is global, in words, with its source."""
    kinds = [x.kind for x in stage.layers]
    pool = next((i for i, x in enumerate(stage.layers) if x.receptive_field.is_global), None)
    if pool is not None and kinds[pool].startswith("AdaptiveAvgPool") and "mul" in kinds[pool:]:
        return ("its blocks' squeeze-and-excitation averages the whole map to weight the "
                "channels, and multiplies every pixel by those weights (Hu et al. 2018, §3)")
    return "a global pooling inside its blocks reads the whole map"


def field_headline(report: NetworkReport) -> tuple[str, str, str]:
    """(label, value, help) of the page's receptive-field metric: the field after the last
    stage that keeps a feature map, or, where a global pooling inside the blocks already
    reads the whole image, the first such stage and "whole image"."""
    whole = _global_map_stage(report)
    if whole is not None:
        return (f"Receptive field after {whole.name}", "whole image",
                f"Every pixel of this feature map depends on every input pixel: "
                f"{_global_cause(whole)}.")
    maps = [s for s in report.stages if len(s.output_shape) == 3]
    help_text = ("The height × width of the input pixels that one pixel of the last feature "
                 "map can see (theoretical).")
    if maps:
        return (f"Receptive field after {maps[-1].name}",
                maps[-1].receptive_field.text(" × "), help_text)
    return "Receptive field", report.predicted.receptive_field.text(" × "), help_text


def _field_fact(report: NetworkReport) -> str:
    _, _, h, w = report.predicted.input_shape
    spatial = [s for s in report.stages if len(s.output_shape) == 3
               and not s.receptive_field.is_global]
    whole = _global_map_stage(report)
    for s in spatial:
        if whole is not None and report.stages.index(whole) < report.stages.index(s):
            break
        rh, rw = s.receptive_field.size
        if rh > h or rw > w:
            return (f"After {s.name} one output pixel's theoretical receptive field is "
                    f"{s.receptive_field.text()}, larger than the {h}×{w} input: from there on "
                    f"the central outputs can see the whole image (a corner output needs a "
                    f"field of about {2 * h - 1}×{2 * w - 1}, twice the image; and the "
                    f"effective field is smaller still).")
    if whole is not None:
        before = [s for s in spatial if report.stages.index(s) < report.stages.index(whole)]
        grown = (f"; the convolutions before it reach {before[-1].receptive_field.text()} "
                 f"after {before[-1].name}" if before else "")
        return (f"From {whole.name} on, every output of {_title(report.spec)} depends on the "
                f"whole {h}×{w} image, not on a window: {_global_cause(whole)}{grown}. What "
                f"comes from the whole image is one weight per channel; the spatial detail "
                f"still comes from the convolutions' window.")
    if spatial:
        last = spatial[-1]
        return (f"The convolutions' field stops at {last.receptive_field.text()} after "
                f"{last.name}, inside the {h}×{w} input; only a global pooling or a fully "
                f"connected layer sees all of it.")
    return "No stage keeps a feature map, so there is no receptive field to follow."


def _dense_facts(report: NetworkReport) -> list[str]:
    """How the channels grow through the dense blocks, layer by layer."""
    growth = []
    for stage, row in zip(report.spec.stages, report.stages):
        for part, (child, kind) in zip(stage.parts, _first_children(report, stage)):
            if kind == "dense":
                rows = [x for x in row.layers if x.name.startswith(child + ".")]
                layers, k = part.values.get("layers", 4), part.values.get("growth_rate", 12)
                growth.append(f"{stage.name} {rows[0].in_shape[0]} + {layers} × {k} = "
                              f"{rows[-1].out_shape[0]}")
    if not growth:
        return []
    return ["Every dense layer concatenates its new channels to all it received, so the "
            "channels grow by the growth rate per layer: " + "; ".join(growth)
            + (". The transitions between the blocks halve them again." if len(growth) > 1
               else ".")]


def _first_children(report: NetworkReport, stage: Stage) -> list[tuple[str, str]]:
    """(child name, kind) of the first block of each part of `stage`."""
    children, out, i = stage_blocks(report.spec, stage), [], 0
    for part in stage.parts:
        out.append(children[i])
        i += part.depth
    return out


@dataclass(frozen=True)
class PresetPoint:
    """One preset's totals for the chart across networks."""

    name: str
    title: str
    year: int
    params: int
    macs: int
    top1: float | None
    top1_source: str


def preset_points(height: int = 224, width: int = 224) -> list[PresetPoint]:
    """Every preset's predicted totals (a walk on the meta device each: no weights)."""
    points = []
    for preset in PRESETS.values():
        spec = NetworkSpec.create(preset.text, preset.name, height=height, width=width)
        _, _, p = network_prediction(spec)
        points.append(PresetPoint(preset.name, preset.title, preset.year, p.params, p.macs,
                                  preset.top1, preset.top1_source))
    return points


def stage_shares(rows: list[StageRow]) -> list[tuple[str, float, float]]:
    """(stage, % of parameters, % of MACs) for each stage."""
    params, macs = sum(r.params for r in rows), sum(r.macs for r in rows)
    return [(r.name, share(r.params, params), share(r.macs, macs)) for r in rows]


# --- plain vs residual at network scale --------------------------------------------

PROBE_SIZE = 64  # pixels: the probe's point is the gradients' flow, not the resolution
PROBE_BATCH = 4


def main_path(flow: StackFlow, model: nn.Module) -> StackFlow:
    """The flow of the convolutions on the main path (no shortcut projections, no
    classifier), so a plain network and its residual twin line up layer by layer."""
    keep = [i for i, (name, m) in enumerate(weighted_layers(model))
            if isinstance(m, nn.Conv2d) and ".shortcut" not in name]
    return StackFlow([flow.layers[i] for i in keep], [flow.grad_norms[i] for i in keep],
                     flow.input_grad_norms, flow.activation_mean, flow.activation_std,
                     flow.loss, flow.zero_init)


def probe_network(spec: NetworkSpec, loss: str = "ce", device: str | torch.device = "cpu"
                  ) -> StackFlow:
    """One forward + backward of the freshly built network in training mode; the blocks
    watched are the stages' children (every block and layer)."""
    device = torch.device(device)
    model = build_network(spec, device)
    generator = torch.Generator().manual_seed(spec.seed + 1)  # the data; +0 made the weights
    x = torch.randn(spec.input_shape, generator=generator).to(device)
    blocks = [block for stage in model.children() for block in stage.children()]
    return main_path(probe_blocks(model, blocks, x, loss, generator), model)


def compare_networks(plain: NetworkSpec, residual: NetworkSpec, loss: str = "ce",
                     device: str | torch.device = "cpu") -> tuple[StackFlow, StackFlow]:
    """The gradient probe of two networks on the same input and seed (plain-34 and
    ResNet-34 on the page)."""
    works = [network_prediction(s, FORWARD_BACKWARD, f"the {s.name} probe")[0]
             for s in (plain, residual)]
    check(*works, what="the two gradient probes")
    return probe_network(plain, loss, device), probe_network(residual, loss, device)


def probe_specs(height: int = PROBE_SIZE, batch: int = PROBE_BATCH, seed: int = 0
                ) -> tuple[NetworkSpec, NetworkSpec]:
    """plain-34 and ResNet-34 at the probe's size."""
    return tuple(NetworkSpec.create(PRESETS[n].text, n, height=height, width=height,
                                    batch=batch, seed=seed)
                 for n in ("plain34", "resnet34"))  # type: ignore[return-value]


def probe_story(plain: StackFlow, residual: StackFlow) -> list[str]:
    """What the two probes show, in sentences computed from their numbers."""
    said = []
    for name, flow in (("plain-34", plain), ("ResNet-34", residual)):
        said.append(f"In {name} the first convolution's weight gradient is {flow.headline()}× "
                    f"that of the last one on the main path.")
    q_plain, q_res = plain.first_over_last, residual.first_over_last
    if q_plain > 0 and q_res > 0:
        far = max(q_plain, 1 / q_plain) / max(q_res, 1 / q_res)
        if far > 2:
            said.append(f"Without shortcuts the gradient's scale drifts {far:.0f}× further "
                        f"across the depth: the shortcuts carry it through every stage at a "
                        f"similar size.")
    return said


# --- compound scaling ---------------------------------------------------------------------

# EfficientNet's compound scaling (Tan & Le 2019, §3.3, eq. 3): depth d = α^φ, width
# w = β^φ, resolution r = γ^φ, with α·β²·γ² ≈ 2 so that the FLOPs grow by about 2^φ. The
# constants are the ones their grid search found for EfficientNet-B0.
ALPHA, BETA, GAMMA = 1.2, 1.1, 1.15
MAX_PHI = 3


def compound_rule(phi: int) -> float:
    """The paper's cost factor of compound scaling: (α·β²·γ²)^φ, about 2^φ."""
    return (ALPHA * BETA ** 2 * GAMMA ** 2) ** phi


@dataclass(frozen=True)
class ScaledVariant:
    """One way of scaling a network: its multipliers and the network it gives (or why
    not), with the predicted report's totals."""

    name: str
    depth: float
    width: float
    resolution: float
    spec: NetworkSpec | None
    error: str = ""


def divisible(channels: float, divisor: int = 8) -> int:
    """A scaled channel count rounded to a multiple of 8, never more than 10% below the
    exact value (the rounding of torchvision's EfficientNet and MobileNets,
    `_make_divisible`)."""
    rounded = max(divisor, int(channels + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * channels else rounded


FIXED_STAGES = ("stem", "head")  # depth scaling repeats the stages' blocks, not these


def scaled(spec: NetworkSpec, depth: float = 1.0, width: float = 1.0,
           resolution: float = 1.0) -> NetworkSpec:
    """`spec` with every block part of a stage repeated ceil(depth × n) times (a VGG block,
    whose pool would repeat too, gets ceil(depth × convs) convolutions instead; the stem and
    the head are never repeated, as in Tan & Le 2019, Table 1), every out_channels (blocks
    and convolution layers) times `width`, rounded by `divisible`, and the input side times
    `resolution` (rounded); InputError if the result cannot be built."""
    stages = []
    for stage in spec.stages:
        parts = []
        deepens = stage.name not in FIXED_STAGES
        for part in stage.parts:
            args = dict(part.args)
            if "out_channels" in args and width != 1:
                args["out_channels"] = divisible(args["out_channels"] * width)
            n = part.depth
            if part.is_block and deepens and any(p.name == "convs" for p in part.schema()):
                convs = args.get("convs", REGISTRY[part.kind].param("convs").default)
                args["convs"] = math.ceil(convs * depth - 1e-9)
            elif part.is_block and deepens:
                n = math.ceil(part.depth * depth - 1e-9)
            parts.append(make_part(part.kind, n, **args))
        stages.append(make_stage(stage.name, parts))
    return spec.replace(stages=tuple(stages), name=spec.name if (depth, width) == (1, 1)
                        else "custom", height=round(spec.height * resolution),
                        width=round(spec.width * resolution))


def scaling_variants(spec: NetworkSpec, phi: int) -> list[ScaledVariant]:
    """The network as it is, scaled by φ along one dimension at a time, and along all three
    (compound), as Tan & Le compare them (2019, Fig. 8, Table 3)."""
    d, w, r = ALPHA ** phi, BETA ** phi, GAMMA ** phi
    out = []
    for name, multipliers in (("as it is", (1.0, 1.0, 1.0)), ("depth only", (d, 1.0, 1.0)),
                              ("width only", (1.0, w, 1.0)),
                              ("resolution only", (1.0, 1.0, r)), ("compound", (d, w, r))):
        try:
            out.append(ScaledVariant(name, *multipliers, scaled(spec, *multipliers)))
        except InputError as e:
            out.append(ScaledVariant(name, *multipliers, None, str(e)))
    return out
