"""The classic networks of the articles, written in the network text of cnnviz.core.network.

Each one, at 3x224x224 with 1000 classes, has exactly the parameters of torchvision's
model of the same name (tests hold them equal); the stages follow torchvision's layout.
"""
from __future__ import annotations

from dataclasses import dataclass

from cnnviz.core.blocks.registry import value_text
from cnnviz.core.errors import NetworkTextError
from cnnviz.core.network.spec import NetworkSpec

TORCHVISION = "torchvision's model documentation (IMAGENET1K_V1 weights)"
HEAD = "head=adaptive_avgpool;flatten;linear"
RESNET_STEM = "stem=conv_bn_act:out_channels=64,kernel_size=7,stride=2,padding=3;maxpool:padding=1"


@dataclass(frozen=True)
class Preset:
    name: str
    title: str
    year: int
    paper: str
    summary: str
    text: str  # the stages, as NetworkSpec.create reads them
    top1: float | None = None  # ImageNet top-1 accuracy, in %
    top1_source: str = ""


def stages(first: int, parts: list[str]) -> str:
    """'stage<first>=...|stage<first+1>=...' for one part text per stage."""
    return "|".join(f"stage{first + i}={p}" for i, p in enumerate(parts))


def part(kind: str, depth: int = 1, /, **args: object) -> str:
    """One part's text: kind[*depth][:name=value,...]."""
    text = ",".join(f"{k}={value_text(v)}" for k, v in args.items())
    return kind + (f"*{depth}" if depth != 1 else "") + (f":{text}" if text else "")


def resnet(block: str, depths: tuple[int, ...], widths: tuple[int, ...],
           per_stage: tuple[dict[str, object], ...] | None = None, **args: object) -> str:
    """Four stages of `block`; every stage but the first halves the resolution."""
    extra = per_stage or tuple({} for _ in depths)
    return stages(1, [part(block, d, out_channels=w, **({"stride": 2} if i else {}), **args,
                           **extra[i])
                      for i, (d, w) in enumerate(zip(depths, widths))])


def vgg(convs: tuple[int, ...]) -> str:
    widths = (64, 128, 256, 512, 512)
    return "|".join([stages(1, [part("vgg", out_channels=w, convs=n)
                                for w, n in zip(widths, convs)]),
                     "head=adaptive_avgpool:size=7;flatten;linear:out_features=4096;act;dropout;"
                     "linear:out_features=4096;act;dropout;linear"])


def conv(out: int, k: int, stride: int = 1, padding: int | None = None,
         **args: object) -> str:
    """A conv-norm-act part; "same"-style padding unless told."""
    return part("conv_bn_act", out_channels=out, kernel_size=k, stride=stride,
                padding=(k - 1) // 2 if padding is None else padding, **args)


def plain_conv(out: int, k: int, stride: int = 1, padding: int | None = None) -> str:
    """AlexNet's conv: a bias and a ReLU, no norm."""
    return conv(out, k, stride, padding, norm="none", bias=True)


def inception(b1: int, b2r: int, b2: int, b3r: int, b3: int, b4: int) -> str:
    return part("inception", b1=b1, b2_reduce=b2r, b2=b2, b3_reduce=b3r, b3=b3, b4=b4,
                norm="batch", b3_kernel=3)


CEIL_POOL = "maxpool:ceil_mode=true"
RESNET_WIDTHS = (64, 128, 256, 512)
BOTTLENECK_WIDTHS = (256, 512, 1024, 2048)

PRESETS: dict[str, Preset] = {p.name: p for p in [
    Preset("alexnet", "AlexNet", 2012,
           "Krizhevsky, Sutskever & Hinton 2012, §3.5, Fig. 2; built as torchvision's "
           "variant, after Krizhevsky 2014 (One weird trick)",
           "Five convolutions with large early kernels and strides, then three fully "
           "connected layers that hold almost all of the weights. This is torchvision's "
           "variant, not the 2012 network: 64, 192, 384, 256 and 256 filters (the paper "
           "has 96, 256, 384, 384, 256), no local response normalisation and no split into "
           "two GPU groups.",
           "|".join([f"stem={plain_conv(64, 11, 4, padding=2)}"
                     ";maxpool",
                     f"stage1={plain_conv(192, 5)};maxpool",
                     f"stage2={plain_conv(384, 3)};{plain_conv(256, 3)};"
                     f"{plain_conv(256, 3)};maxpool",
                     "head=adaptive_avgpool:size=6;flatten;dropout;linear:out_features=4096;act;"
                     "dropout;linear:out_features=4096;act;linear"]),
           56.522, TORCHVISION),
    Preset("vgg11", "VGG-11", 2015, "Simonyan & Zisserman 2015, Table 1 (config A)",
           "Only 3x3 convolutions, in five stages that each end in a 2x2 max-pool.",
           vgg((1, 1, 2, 2, 2)), 69.02, TORCHVISION),
    Preset("vgg16", "VGG-16", 2015, "Simonyan & Zisserman 2015, Table 1 (config D)",
           "VGG-11 made deeper: 13 convolutions of 3x3 and the same three fully connected "
           "layers.", vgg((2, 2, 3, 3, 3)), 71.592, TORCHVISION),
    Preset("googlenet", "GoogLeNet", 2015, "Szegedy et al. 2015, §5, Table 1",
           "Nine Inception modules whose 1x1 reductions keep four parallel branches cheap, "
           "and a global average pool instead of large fully connected layers. Built as "
           "torchvision's version: batch normalisation after every convolution, a 3x3 where "
           "the paper's third branch has a 5x5, and no auxiliary classifiers.",
           "|".join([f"stem={conv(64, 7, 2)};{CEIL_POOL};{conv(64, 1)};{conv(192, 3)};{CEIL_POOL}",
                     "stage1=" + ";".join([inception(64, 96, 128, 16, 32, 32),
                                           inception(128, 128, 192, 32, 96, 64), CEIL_POOL]),
                     "stage2=" + ";".join([inception(192, 96, 208, 16, 48, 64),
                                           inception(160, 112, 224, 24, 64, 64),
                                           inception(128, 128, 256, 24, 64, 64),
                                           inception(112, 144, 288, 32, 64, 64),
                                           inception(256, 160, 320, 32, 128, 128),
                                           "maxpool:kernel_size=2,ceil_mode=true"]),
                     "stage3=" + ";".join([inception(256, 160, 320, 32, 128, 128),
                                           inception(384, 192, 384, 48, 128, 128)]),
                     "head=adaptive_avgpool;flatten;dropout:p=0.2;linear"]),
           69.778, TORCHVISION),
    Preset("resnet18", "ResNet-18", 2016, "He et al. 2016, Table 1",
           "Basic residual blocks, two per stage, after a 7x7 stem and a max-pool.",
           "|".join([RESNET_STEM, resnet("resnet_basic", (2, 2, 2, 2), RESNET_WIDTHS), HEAD]),
           69.758, TORCHVISION),
    Preset("resnet34", "ResNet-34", 2016, "He et al. 2016, Table 1",
           "ResNet-18 with 3, 4, 6 and 3 basic blocks per stage.",
           "|".join([RESNET_STEM, resnet("resnet_basic", (3, 4, 6, 3), RESNET_WIDTHS), HEAD]),
           73.314, TORCHVISION),
    Preset("plain34", "Plain-34", 2016,
           "He et al. 2016 (the control network), Fig. 3, Fig. 4, Table 2",
           "ResNet-34 without its shortcuts: the paper's plain network, which trains worse "
           "than the shallower plain-18 (the degradation problem).",
           "|".join([RESNET_STEM, resnet("resnet_basic", (3, 4, 6, 3), RESNET_WIDTHS,
                                         skip=False), HEAD])),
    Preset("resnet50", "ResNet-50", 2016, "He et al. 2016, Table 1, Fig. 5",
           "Bottleneck blocks (1x1, 3x3, 1x1) in stages of 3, 4, 6 and 3, four times wider "
           "at their ends than in their 3x3.",
           "|".join([RESNET_STEM, resnet("resnet_bottleneck", (3, 4, 6, 3), BOTTLENECK_WIDTHS),
                     HEAD]), 76.13, TORCHVISION),
    Preset("preact_resnet50", "Pre-activation ResNet-50", 2016,
           "He et al. 2016b (Identity Mappings), Fig. 4e, Eqs. 4-5",
           "ResNet-50 with BN and ReLU before each convolution, so nothing follows the "
           "addition. Inside a stage each block adds its input unchanged, so the gradient at "
           "any block is the gradient at the stage's end, passed on as it is, plus what "
           "flows back through the residual branches (He et al. 2016b, Eqs. 4-5). The "
           "first block of each stage still has a 1x1 projection shortcut, so no path "
           "is an identity from the stem to the head.",
           "|".join(["stem=conv:out_channels=64,kernel_size=7,stride=2,padding=3,bias=false;"
                     "maxpool:padding=1",
                     resnet("preact_bottleneck", (3, 4, 6, 3), BOTTLENECK_WIDTHS),
                     "head=norm;act;adaptive_avgpool;flatten;linear"])),
    Preset("resnext50_32x4d", "ResNeXt-50 (32x4d)", 2017, "Xie et al. 2017, Table 1",
           "ResNet-50 whose bottleneck 3x3 is both split into 32 groups and twice as wide "
           "(128 channels in the first stage, where ResNet-50 has 64), at about the same "
           "parameters and MACs (Xie et al. 2017, Table 1); the groups widen with the stage.",
           "|".join([RESNET_STEM, resnet("resnext", (3, 4, 6, 3), BOTTLENECK_WIDTHS,
                                         per_stage=tuple({"width_per_group": 4 * 2 ** i}
                                                         for i in range(4))),
                     HEAD]), 77.618, TORCHVISION),
    Preset("densenet121", "DenseNet-121", 2017, "Huang et al. 2017, Table 1",
           "Four dense blocks (6, 12, 24, 16 layers, 32 new channels each) joined by "
           "transitions that halve the channels and the resolution.",
           "|".join([RESNET_STEM] + [
               f"stage{i + 1}=" + part("dense", layers=n, growth_rate=32)
               + (";dense_transition" if i < 3 else "")
               for i, n in enumerate((6, 12, 24, 16))]
               + ["head=norm;act;adaptive_avgpool;flatten;linear"]), 74.434, TORCHVISION),
    Preset("mobilenet_v2", "MobileNetV2", 2018, "Sandler et al. 2018, §3.3, Table 2",
           "Inverted residuals: expand 6x with a 1x1, filter depthwise, project back linearly.",
           "|".join([f"stem={conv(32, 3, 2, act='relu6')}",
                     stages(1, [part("inverted_residual", out_channels=16, expansion=1),
                                part("inverted_residual", 2, out_channels=24, stride=2),
                                part("inverted_residual", 3, out_channels=32, stride=2),
                                part("inverted_residual", 4, out_channels=64, stride=2) + ";"
                                + part("inverted_residual", 3, out_channels=96),
                                part("inverted_residual", 3, out_channels=160, stride=2) + ";"
                                + part("inverted_residual", out_channels=320)]),
                     f"head={conv(1280, 1, act='relu6')};adaptive_avgpool;flatten;"
                     "dropout:p=0.2;linear"]), 71.878, TORCHVISION),
    Preset("shufflenet_v2_x1_0", "ShuffleNetV2 1.0x", 2018, "Ma et al. 2018, Fig. 3, Table 5",
           "Units that split the channels, transform one half, and shuffle the halves.",
           "|".join([f"stem={conv(24, 3, 2)};maxpool:padding=1",
                     stages(1, [part("shufflenet", n, out_channels=w, stride=2)
                                for n, w in ((4, 116), (8, 232), (4, 464))]),
                     f"head={conv(1024, 1)};adaptive_avgpool;flatten;linear"]),
           69.362, TORCHVISION),
    Preset("efficientnet_b0", "EfficientNet-B0", 2019, "Tan & Le 2019, §4, Table 1",
           "MBConv blocks with squeeze-excitation and SiLU, found by architecture search.",
           "|".join([f"stem={conv(32, 3, 2, act='silu')}",
                     stages(1, [part("mbconv", out_channels=16, expansion=1),
                                part("mbconv", 2, out_channels=24, stride=2),
                                part("mbconv", 2, out_channels=40, kernel_size=5, stride=2),
                                part("mbconv", 3, out_channels=80, stride=2) + ";"
                                + part("mbconv", 3, out_channels=112, kernel_size=5),
                                part("mbconv", 4, out_channels=192, kernel_size=5, stride=2)
                                + ";" + part("mbconv", out_channels=320)]),
                     f"head={conv(1280, 1, act='silu')};adaptive_avgpool;flatten;dropout:p=0.2;"
                     "linear"]), 77.692, TORCHVISION),
    Preset("regnet_y_400mf", "RegNetY-400MF", 2020, "Radosavovic et al. 2020",
           "Stage widths and depths from a simple linear rule; grouped bottlenecks of group "
           "width 8 with squeeze-excitation.",
           "|".join([f"stem={conv(32, 3, 2)}",
                     stages(1, [part("regnet", d, out_channels=w, stride=2, group_width=8,
                                     se=True)
                                for d, w in ((1, 48), (3, 104), (6, 208), (6, 440))]),
                     HEAD]), 74.046, TORCHVISION),
    Preset("convnext_tiny", "ConvNeXt-T", 2022, "Liu et al. 2022",
           "A ResNet modernised: a 4x4 patchify stem, 7x7 depthwise convolutions, LayerNorm, "
           "GELU and inverted bottlenecks, with separate downsampling layers.",
           "|".join(["stem=conv:out_channels=96,kernel_size=4,stride=4;norm:norm=layer"]
                    + [f"stage{i + 1}="
                       + (f"norm:norm=layer;conv:out_channels={w},kernel_size=2,stride=2;"
                          if i else "") + part("convnext", d)
                       for i, (d, w) in enumerate(zip((3, 3, 9, 3), (96, 192, 384, 768)))]
                    + ["head=adaptive_avgpool;norm:norm=layer;flatten;linear"]),
           82.52, TORCHVISION),
]}


def network_spec(name_or_text: str, **fields: object) -> NetworkSpec:
    """A preset by name, or a network written as text, validated with `fields`
    (channels, height, width, batch, classes, seed)."""
    key = name_or_text.strip()
    if "=" in key:
        return NetworkSpec.create(key, "custom", **fields)  # type: ignore[arg-type]
    if key not in PRESETS:
        raise NetworkTextError(f"Unknown network {key[:40]!r}; the presets are "
                               f"{', '.join(PRESETS)} (or write one as stage=part;part|...).")
    return NetworkSpec.create(PRESETS[key].text, key, **fields)  # type: ignore[arg-type]
