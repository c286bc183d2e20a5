"""The animation frames against torch: every output cell once, and exactly the cells torch reads."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnviz.core import arithmetic as ar
from cnnviz.topics import sliding
from cnnviz.topics.sliding import INPUT, OUT_PAD, PAD, ZERO


def torch_reads(op, height: int, width: int) -> tuple[tuple[int, int], dict]:
    """Output shape and, for each output cell, the input cells it depends on.

    One forward on a batch of one-hot images (one per input cell) with all-ones
    weights: output (i, j) of image n is nonzero iff that output reads input cell n.
    """
    eye = torch.eye(height * width, dtype=torch.float64).view(-1, 1, height, width)
    y = op(eye)  # (H*W, 1, H_out, W_out)
    reads = {}
    for i, j in itertools.product(range(y.shape[2]), range(y.shape[3])):
        hit = torch.nonzero(y[:, 0, i, j]).flatten().tolist()
        reads[(i, j)] = {divmod(n, width) for n in hit}
    return (y.shape[2], y.shape[3]), reads


def check(anim: sliding.Animation, shape, reads) -> None:
    assert anim.out_shape == shape
    frames = anim.frames()
    outs = [f.out for f in frames]
    assert len(outs) == len(set(outs)) == shape[0] * shape[1]  # each output cell exactly once
    for f in frames:
        assert anim.input_reads(f) == reads[f.out], f.out


SIZES = [(1, 1), (3, 5), (5, 4), (6, 6)]


@pytest.mark.parametrize("h,w", SIZES)
def test_conv_frames_match_torch(h, w):
    tried = 0
    for k, s, p, d in itertools.product((1, 2, 3, 4), (1, 2, 3), (0, 1, 2), (1, 2)):
        ones = torch.ones(1, 1, k, k, dtype=torch.float64)
        try:
            anim = sliding.conv_animation(h, w, k, s, p, d)
        except ValueError:
            with pytest.raises(RuntimeError):
                F.conv2d(torch.ones(1, 1, h, w, dtype=torch.float64), ones, None, s, p, d)
            continue
        check(anim, *torch_reads(lambda x: F.conv2d(x, ones, None, s, p, d), h, w))
        assert ar.conv_out(h, k, s, p, d) == anim.out_shape[0]
        tried += 1
    assert tried > 20


def test_conv_non_square_geometry():
    anim = sliding.conv_animation(5, 7, (3, 2), (2, 1), (1, 0), (1, 2))
    ones = torch.ones(1, 1, 3, 2, dtype=torch.float64)
    check(anim, *torch_reads(lambda x: F.conv2d(x, ones, None, (2, 1), (1, 0), (1, 2)), 5, 7))


@pytest.mark.parametrize("h,w", SIZES)
def test_transposed_frames_match_torch(h, w):
    tried = 0
    for k, s, p, d, op in itertools.product((1, 2, 3, 4), (1, 2, 3), (0, 1, 2, 4), (1, 2),
                                            (0, 1, 2)):
        ones = torch.ones(1, 1, k, k, dtype=torch.float64)
        run = lambda x: F.conv_transpose2d(x, ones, None, s, p, op, 1, d)  # noqa: E731
        try:
            anim = sliding.transposed_animation(h, w, k, s, p, d, op)
        except ValueError:
            with pytest.raises(RuntimeError):
                run(torch.ones(1, 1, h, w, dtype=torch.float64))
            continue
        check(anim, *torch_reads(run, h, w))
        assert ar.conv_transpose_out(h, k, s, p, d, op) == anim.out_shape[0]
        tried += 1
    assert tried > 50


@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pool_frames_match_torch(kind):
    pool = F.max_pool2d if kind == "max" else F.avg_pool2d
    for (h, w), k, s, p in itertools.product(SIZES, (1, 2, 3), (1, 2, 3), (0, 1)):
        try:
            anim = sliding.pool_animation(h, w, k, s, p, kind)
        except ValueError:
            with pytest.raises(RuntimeError):
                pool(torch.ones(1, 1, h, w), k, s, p, ceil_mode=False)
            continue
        # one-hot inputs are >= 0, so a window holding the hot cell gives a positive output
        check(anim, *torch_reads(lambda x: pool(x, k, s, p, ceil_mode=False), h, w))


def test_stride_floor_leaves_cells_unread():
    anim = sliding.conv_animation(6, 6, 3, 2, 0)  # windows at 0-2 and 2-4: row 5 never read
    assert anim.out_shape == (2, 2)
    assert anim.rows.never_read() == (5,)
    assert anim.never_read()[5].all() and not anim.never_read()[:5, :5].any()


def test_transposed_layout_is_zero_insertion_plus_padding():
    anim = sliding.transposed_animation(3, 3, 3, 2, 1, 1, 1)
    # inserted: (3-1)*2+1 = 5, pad d(k-1)-p = 1 each side, output padding 1 -> 8 cells
    assert anim.rows.kinds == (PAD, INPUT, ZERO, INPUT, ZERO, INPUT, PAD, OUT_PAD)
    assert anim.rows.source[1::2][:3] == (0, 1, 2)
    assert anim.out_shape == (6, 6) == (ar.conv_transpose_out(3, 3, 2, 1, 1, 1),) * 2
    assert ar.transposed_steps_latex(3, 3, 2, 1, 1, 1)[-1] == "H_{out} = 6"


def test_invalid_configs_explain():
    with pytest.raises(ValueError, match="padded input"):
        sliding.conv_animation(3, 3, 5, 1, 0)
    with pytest.raises(ValueError, match="output_padding"):
        sliding.transposed_animation(3, 3, 3, 2, 0, 1, 2)
    with pytest.raises(ValueError, match="half"):
        sliding.pool_animation(4, 4, 2, 2, 2)


@pytest.mark.parametrize("k", [3, 4])
def test_checkerboard_statistic(k):
    uniform = sliding.checkerboard(kernel_size=k, stride=2)
    assert uniform.std_upsample_conv == 0.0  # every interior pixel sums the same 9 taps
    if k == 3:
        assert uniform.std_transposed > 0.5  # 1, 2 or 4 overlapping taps
    else:
        assert uniform.std_transposed == 0.0  # k divisible by s: even overlap
    random = sliding.checkerboard(kernel_size=k, stride=2, weights="random")
    assert random.std_transposed > 0.1 and random.std_upsample_conv < 1e-6


@pytest.mark.parametrize("weights", ["uniform", "random"])
@pytest.mark.parametrize("k", [3, 4])
def test_subpixel_conv_with_equal_subkernels_has_no_checkerboard(k, weights):
    """Sub-pixel conv (conv to s² channels + PixelShuffle) with its s² sub-kernels equal (ICNR,
    Aitken et al. 2017) is flat on a constant input, as resize-conv: every output pixel sums
    the same taps. Independent random sub-kernels give each phase its own sum: a pattern."""
    cb = sliding.checkerboard(kernel_size=k, stride=2, weights=weights)
    assert cb.subpixel.shape == cb.upsample_conv.shape == (24, 24)
    assert cb.std_subpixel == 0.0
    assert cb.std_subpixel_untied > 0.1
    inner = cb.subpixel[4:-4, 4:-4]  # flat: every interior pixel sums the same taps
    assert np.allclose(inner, inner[0, 0])


def test_icnr_starts_the_subpixel_conv_as_nearest_resize_then_conv():
    """ICNR: conv at low resolution + PixelShuffle equals nearest upsampling of that conv."""
    generator = torch.Generator().manual_seed(0)
    kernel = torch.randn(3, 2, 3, 3, generator=generator)  # (C_out, C_in, k, k)
    x = torch.randn(1, 2, 5, 6, generator=generator)
    weight = sliding.icnr(kernel, 2)
    assert weight.shape == (12, 2, 3, 3)
    shuffled = F.pixel_shuffle(F.conv2d(x, weight, padding=1), 2)
    resized = F.interpolate(F.conv2d(x, kernel, padding=1), scale_factor=2, mode="nearest")
    assert torch.allclose(shuffled, resized, atol=1e-6)  # float32 sums in another order


# --- one output value by hand ----------------------------------------------------------------

@pytest.mark.parametrize("seed", [1, 2, 50, 99])
def test_the_sum_by_hand_is_what_torch_computes(seed):
    hand = sliding.hand_sum(seed)
    assert hand.image.shape == (5, 5) and hand.kernel.shape == (3, 3)
    assert hand.image.min() >= 0 and hand.image.max() <= 3 and abs(hand.kernel).max() <= 1
    layer = torch.nn.Conv2d(1, 1, 3, bias=False)  # the layer a network would hold
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(hand.kernel, dtype=torch.float32)[None, None])
        y = layer(torch.tensor(hand.image, dtype=torch.float32)[None, None])[0, 0]
    for r, c in itertools.product(range(3), range(3)):
        assert hand.by_hand(r, c) == hand.output[r, c] == round(float(y[r, c]))
        turned = sum(hand.image[r + i, c + j] * hand.kernel[2 - i, 2 - j]
                     for i, j in itertools.product(range(3), range(3)))
        assert hand.flipped[r, c] == turned  # the convolution of signal processing


def test_the_numbers_by_hand_are_a_page_choice_from_1_to_99():
    assert not np.array_equal(sliding.hand_sum(2).output, sliding.hand_sum(2).flipped)
    for seed in (0, 100):
        with pytest.raises(ValueError):
            sliding.hand_sum(seed)
