"""The glossary: the words the pages' numbers use, one plain sentence each.

No streamlit here. The Glossary page (pages/glossary.py) draws every entry under a heading
whose anchor is the entry's `anchor`; a metric's tooltip links to it with `link(anchor)`,
which refuses an anchor the glossary does not have, so a link never points nowhere (a
test walks the pages and checks every link's target too).

An entry that claims more than a definition names its source (authors, year, section);
`sources` is empty where the sentence only says how cnnviz counts.
"""
from __future__ import annotations

from dataclasses import dataclass

from cnnviz.pages import GLOSSARY


@dataclass(frozen=True)
class Entry:
    """One word: its anchor on the Glossary page (lower case and '-'), the word, one
    sentence (Markdown), a formula (LaTeX, or empty) and where the claim comes from."""

    anchor: str
    term: str
    text: str
    formula: str = ""
    sources: tuple[str, ...] = ()


ENTRIES: tuple[Entry, ...] = (
    Entry("shape", "Shape (C × H × W)",
          "A feature map's shape is its number of channels $C$, its height $H$ and its width "
          "$W$; PyTorch puts the batch size $N$ in front, $(N, C, H, W)$, and a classifier's "
          "output holds one score per class, $(N, K)$ for $K$ classes.",
          sources=("PyTorch documentation, torch.nn.Conv2d (input and output shapes)",
                   "PyTorch documentation, torch.nn.CrossEntropyLoss (input shape (N, C), C "
                   "the number of classes)")),
    Entry("parameter", "Parameter",
          "A number the network learns from data: a convolution's weights (and its biases, "
          "if it has any) and a normalization layer's learned scale and shift; cnnviz counts "
          "every tensor torch registers as a parameter of the module (frozen ones too), not a "
          "batch norm's running mean and variance.",
          r"\text{weights of a } k\times k \text{ convolution} = k\cdot k\cdot "
          r"\frac{C_{in}}{g}\cdot C_{out}"),
    Entry("mac", "MAC (multiply-accumulate)",
          "A MAC is one multiply and one add, $a \\leftarrow a + w\\,x$: a convolution does "
          "one for every weight at every output pixel (a transposed convolution, at every "
          "input pixel), so its MACs measure the arithmetic of a forward pass.",
          r"\text{MACs} = k\cdot k\cdot \frac{C_{in}}{g}\cdot C_{out}\cdot H_{out}\cdot "
          r"W_{out}"),
    Entry("flop", "FLOP (floating-point operation)",
          "A FLOP is one multiply or one add of two real numbers, so one MAC is two FLOPs, "
          "the convention of PyTorch's FLOP counter that cnnviz follows; some papers write "
          "FLOPs for multiply-adds (He et al. 2016 count ResNet-34's 3.6 billion "
          "\"FLOPs (multiply-adds)\"), so compare a paper's number with cnnviz's MACs.",
          r"\text{FLOPs} = 2 \times \text{MACs}",
          ("He et al. 2016, Deep Residual Learning, §3.3",)),
    Entry("stride", "Stride",
          "The step, in input pixels, between two neighbouring positions of the kernel: a "
          "stride of $s$ makes the output about $s$ times smaller along each axis.",
          r"H_{out} = \left\lfloor \frac{H_{in} + 2p - d\,(k-1) - 1}{s} \right\rfloor + 1",
          ("Dumoulin & Visin 2016, A guide to convolution arithmetic, §2.3–2.4; §5.1 for "
           "dilation",)),
    Entry("padding", "Padding",
          "Zeros added around the input's border before the kernel slides, so that windows "
          "near the edge exist: with stride 1 and an odd kernel $k$, a padding of "
          "$(k-1)/2$ keeps the height and width.",
          r"p = \frac{k-1}{2} \;\Rightarrow\; H_{out} = H_{in} \quad (s = 1)",
          ("Dumoulin & Visin 2016, A guide to convolution arithmetic, §2.2",)),
    Entry("receptive-field", "Receptive field",
          "The input pixels that can change one output pixel: cnnviz reports the exact set "
          "(its height and width); the textbook recurrence below adds $(k-1)$ times the "
          "jump at each layer and is an upper bound of it.",
          r"r_{l} = r_{l-1} + (k_{l} - 1)\, j_{l-1}, \qquad r_{0} = 1",
          ("Araujo, Norris & Sim 2019, Computing Receptive Fields of Convolutional Neural "
           "Networks (Distill)",)),
    Entry("effective-receptive-field", "Effective receptive field",
          "The part of the receptive field where the output's gradient actually lands: "
          "Luo et al. found it roughly Gaussian and much smaller than the full field, "
          "growing more slowly than the field with depth.",
          sources=("Luo et al. 2016, Understanding the Effective Receptive Field in Deep "
                   "CNNs, §2",)),
    Entry("jump", "Jump",
          "The distance, in input pixels, between two neighbouring output pixels: the "
          "product of the strides of every layer so far.",
          r"j_{l} = j_{l-1}\, s_{l}, \qquad j_{0} = 1",
          ("Araujo, Norris & Sim 2019, Computing Receptive Fields of Convolutional Neural "
           "Networks (Distill)",)),
    Entry("activation-memory", "Activation memory",
          "cnnviz's estimate of the bytes needed to keep the layers' outputs until the "
          "backward pass: every value a layer outputs (views excluded), times 4 bytes for a "
          "32-bit float; what autograd really keeps differs layer by layer.",
          r"\text{bytes} = 4 \sum_{\text{layers}} N\cdot C\cdot H\cdot W"),
    Entry("gradient-norm", "Gradient norm",
          "The length of the loss's gradient with respect to one layer's weights, "
          "$\\lVert \\partial L / \\partial W \\rVert$: how strongly training would move that "
          "layer; when, across layers of similar size, the first layer's norm is far "
          "smaller than the last's, the gradient vanishes on its way back.",
          r"\lVert \partial L/\partial W \rVert = \sqrt{\textstyle\sum_{i} "
          r"(\partial L/\partial w_{i})^2}",
          ("Glorot & Bengio 2010, §4.2", "He et al. 2015, Delving Deep into Rectifiers, "
           "§2.2")),
    Entry("normalization", "Normalization (batch norm)",
          "Batch normalization subtracts each channel's mean over the batch and the pixels, "
          "divides by its standard deviation, then scales and shifts the result by two "
          "learned numbers per channel.",
          r"y = \gamma\, \frac{x - \mu_B}{\sqrt{\sigma_B^2 + \epsilon}} + \beta",
          ("Ioffe & Szegedy 2015, Batch Normalization, §3, Algorithm 1",)),
    Entry("initialization", "Initialization",
          "How the weights are drawn before training: Kaiming (He) initialization gives "
          "each weight the variance $2/\\text{fan-in}$ so that a stack of ReLU layers keeps "
          "its forward signal's scale, or $2/\\text{fan-out}$ to keep the backward "
          "gradient's (the paper shows either will do; cnnviz's default is fan-out); Xavier "
          "(Glorot) uses $2/(\\text{fan-in} + \\text{fan-out})$.",
          r"\operatorname{Var}(w) = \frac{2}{\text{fan-in}}, \quad "
          r"\text{fan-in} = k\cdot k\cdot \frac{C_{in}}{g}",
          ("He et al. 2015, Delving Deep into Rectifiers, §2.2", "Glorot & Bengio 2010, "
           "§4.2")),
    Entry("shortcut", "Shortcut (residual connection)",
          "A path that adds a block's input to its output, so the block's layers learn only "
          "a change $F(x)$ to its input; with identity shortcuts the gradient also reaches "
          "earlier blocks directly.",
          r"y = F(x) + x",
          ("He et al. 2016, Deep Residual Learning, §3.1–3.2, Eq. 1", "He et al. 2016b, "
           "Identity Mappings in Deep Residual Networks, §3, Eqs. 4–5")),
    Entry("bottleneck", "Bottleneck",
          "A block that narrows the channels with a 1×1 convolution, does the costly 3×3 "
          "convolution on the fewer channels, and widens them again with another 1×1.",
          sources=("He et al. 2016, Deep Residual Learning, §4.1 (Deeper Bottleneck "
                   "Architectures), Fig. 5",)),
    Entry("grouped-convolution", "Grouped and depthwise convolution",
          "A grouped convolution splits the channels into $g$ groups and lets each output "
          "channel read only its own group, dividing the weights and MACs by $g$; a "
          "depthwise convolution is the extreme $g = C_{in}$, one filter per channel.",
          r"\text{weights} = k\cdot k\cdot \frac{C_{in}}{g}\cdot C_{out}",
          ("Xie et al. 2017, Aggregated Residual Transformations (ResNeXt), §3.3",
           "Howard et al. 2017, MobileNets, §3.1")),
    Entry("prediction", "Prediction (class probabilities)",
          "A classifier ends in one score per class; the softmax turns the scores into "
          "probabilities that are positive and add up to 1, and the prediction is the class "
          "whose probability is highest.",
          r"p_{i} = \frac{e^{z_{i}}}{\sum_{j} e^{z_{j}}}",
          ("Goodfellow, Bengio & Courville 2016, Deep Learning, §6.2.2.3",)),
    Entry("accuracy", "Accuracy",
          "The share of a set of images whose prediction is their true class: the number "
          "classified right divided by the number of images.",
          r"\text{accuracy} = \frac{\text{images classified right}}{\text{images}}"),
    Entry("test-split", "Training and test split",
          "The labelled images are divided once into training images, which the network "
          "learns from, and test images, which it never sees while it learns, so its "
          "accuracy on the test images estimates how it does on new images; a training "
          "accuracy far above the test accuracy is overfitting.",
          sources=("Goodfellow, Bengio & Courville 2016, Deep Learning, §5.2",)),
)
BY_ANCHOR = {e.anchor: e for e in ENTRIES}


def link(anchor: str, words: str = "") -> str:
    """A Markdown link to one entry of the Glossary page (KeyError for an anchor it does
    not have): relative, so it works under any base path; it opens a new tab."""
    entry = BY_ANCHOR[anchor]
    return f"[{words or 'Glossary: ' + entry.term}]({GLOSSARY.name}#{anchor})"


__all__ = ["BY_ANCHOR", "ENTRIES", "Entry", "link"]
