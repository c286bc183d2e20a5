"""Feature maps, fixed filters and receptive fields, checked against the prediction."""
import numpy as np
import pytest
import torch

from cnnviz.core import images
from cnnviz.core.spec import StackSpec, build
from cnnviz.core.walk import predict
from cnnviz.topics import features, receptive_field

SMALL = {"in_channels": 3, "out_channels": 4}

# (block, params, depth): no path silenced (random weights, several inputs), with
# stride 2, dilation 2, a projection shortcut and a pooling-free plain stack.
CONFIGS = [
    ("conv_bn_act", {}, 3),
    ("conv_bn_act", {"stride": 2}, 3),
    ("conv_bn_act", {"dilation": 2}, 2),
    ("resnet_basic", {"stride": 2}, 2),
    ("resnet_basic", {"dilation": 2, "skip": False}, 2),
    ("vgg", {"kernel_size": 5}, 2),
    ("dw_separable", {"out_channels": 6, "stride": 2}, 2),
]


def spec_of(block, params, depth, size=32):
    return StackSpec.create(block, {**SMALL, **params}, depth=depth, height=size, width=size)


@pytest.mark.parametrize("block, params, depth", CONFIGS)
def test_effective_rf_support_is_the_theoretical_support(block, params, depth):
    spec = spec_of(block, params, depth)
    prediction = predict(build(spec), spec.input_shape)
    image = torch.randn(3, 32, 32, generator=torch.Generator().manual_seed(1))
    erf = receptive_field.effective_rf(spec, image, samples=6)
    assert erf.support == prediction.support
    assert erf.theory == prediction.support
    assert erf.pixel == prediction.support.pixel
    assert 0 < erf.n50 <= erf.n90 <= erf.theory_area
    assert 0 < erf.share50 <= erf.share90 <= 1
    # and with every path open (cnnviz.core.measure's probe) the support is the same
    grad = receptive_field.open_gradient(build(spec), spec.input_shape, prediction.support.pixel)
    rows, cols = np.nonzero(grad.sum(axis=1))[0], np.nonzero(grad.sum(axis=0))[0]
    assert (rows[0], rows[-1]) == prediction.support.rows
    assert (cols[0], cols[-1]) == prediction.support.cols


def test_mass_pixels():
    grad = np.array([[4.0, 3.0], [2.0, 1.0]])
    assert receptive_field.mass_pixels(grad, 0.5) == 2  # 4 + 3 = 70% >= 50%, 4 alone is 40%
    assert receptive_field.mass_pixels(grad, 0.9) == 3  # 9/10
    assert receptive_field.mass_pixels(grad, 1.0) == 4
    assert receptive_field.mass_pixels(np.zeros((3, 3)), 0.5) == 0


@pytest.mark.parametrize("block, params, depth", CONFIGS[:5])
def test_feature_map_shapes_match_the_prediction(block, params, depth):
    spec = spec_of(block, params, depth, size=40)
    image = images.to_tensor(images.load_sample("cat"), 40, 40)
    fm = features.feature_maps(spec, image, depth, "random")
    for i, shape in enumerate(fm.shapes):
        expected = predict(build(spec.replace(depth=i + 1)), spec.input_shape).output_shape
        assert shape == expected[1:]
    assert fm.maps.shape == fm.shapes[-1]  # 4 channels: all shown
    assert len(fm.stats) == fm.shapes[-1][0]
    assert all(0 <= s.zeros <= 1 and s.std >= 0 for s in fm.stats)


def test_feature_maps_use_fresh_modules_and_seed():
    spec = spec_of("resnet_basic", {}, 2, size=24)
    image = torch.randn(3, 24, 24, generator=torch.Generator().manual_seed(0))
    a = features.feature_maps(spec, image, 2)
    b = features.feature_maps(spec, image, 2)
    assert np.array_equal(a.maps, b.maps)
    c = features.feature_maps(spec.replace(seed=1), image, 2)
    assert not np.array_equal(a.maps, c.maps)


def test_image_spec_and_bad_calls():
    spec = features.image_spec(StackSpec.create("resnet_basic"), 64, 48)
    assert spec.input_shape == (1, 3, 64, 48)
    with pytest.raises(ValueError, match="does not exist"):
        features.feature_maps(spec, torch.zeros(3, 64, 48), 5)
    with pytest.raises(ValueError, match="RGB"):
        features.feature_maps(spec, torch.zeros(1, 64, 48), 1)
    with pytest.raises(ValueError, match="Unknown filter"):
        features.feature_maps(spec, torch.zeros(3, 64, 48), 1, "emboss")
    with pytest.raises(ValueError, match="no ordinary convolution"):
        features.first_conv(build(StackSpec.create("invertible_1x1", {"in_channels": 3})))


def edge_image(size=20, edge=10):
    """Dark left, bright right: one vertical edge between columns edge-1 and edge."""
    x = torch.zeros(3, size, size)
    x[:, :, edge:] = 1.0
    return x


def first_map(filter, image, block="conv_bn_act", **params):
    spec = spec_of(block, params, 1, size=image.shape[1])
    return features.feature_maps(spec, image, 1, filter).first_map


def test_sobel_x_is_zero_on_a_constant_image_and_peaks_at_a_vertical_edge():
    flat = first_map("sobel_x", torch.full((3, 20, 20), 0.7))
    assert np.abs(flat[1:-1, 1:-1]).max() < 1e-5  # borders see the zero padding
    edge = first_map("sobel_x", edge_image())
    inner = edge[1:-1, 1:-1]
    peak_cols = set(np.nonzero(np.isclose(inner, inner.max()))[1] + 1)
    assert peak_cols == {9, 10}  # the two columns on either side of the edge
    assert np.isclose(inner.max(), 4.0)  # (1 + 2 + 1) * the step of 1
    assert np.abs(edge[1:-1, 1:8]).max() < 1e-5 and np.abs(edge[1:-1, 12:-1]).max() < 1e-5


def test_sobel_y_ignores_a_vertical_edge_and_blur_identity_behave():
    assert np.abs(first_map("sobel_y", edge_image())[1:-1, 1:-1]).max() < 1e-5
    image = edge_image()
    assert np.allclose(first_map("identity", image), image[0].numpy(), atol=1e-6)
    blur = first_map("box_blur", image)
    assert np.isclose(blur[5, 9], 1 / 3) and np.isclose(blur[5, 10], 2 / 3)
    sharp = first_map("sharpen", image)
    assert np.isclose(sharp[5, 9], -1) and np.isclose(sharp[5, 10], 2)


def test_fixed_kernel_fits_other_kernel_sizes_and_dilation():
    fm = features.feature_maps(spec_of("conv_bn_act", {"kernel_size": 5, "dilation": 2}, 1, 20),
                               edge_image(), 1, "sobel_x")
    assert fm.kernel.shape == (5, 5) and fm.dilation == 2
    assert np.array_equal(fm.kernel[1:4, 1:4], features.FILTERS["sobel_x"][0])
    assert fm.kernel[0].sum() == 0 and fm.kernel[:, 4].sum() == 0


def test_rf_steps_follow_the_recurrence():
    spec = spec_of("conv_bn_act", {"stride": 2, "dilation": 2}, 3, size=64)
    model = build(spec)
    prediction = predict(model, spec.input_shape)
    steps, _ = receptive_field.rf_steps(model, prediction)
    assert [(s.r_out, s.j_out) for s in steps] == [(5, 2), (13, 2), (21, 2)]
    assert steps[-1].r_out == prediction.receptive_field.size[0]
    assert "r = 5 + (3-1)\\cdot2\\cdot2 = 13" in steps[1].latex()
    geometry = receptive_field.rf_geometry(prediction)
    assert geometry.output_hw == prediction.output_shape[2:]
    top, left, bottom, right = geometry.box(*prediction.support.pixel)
    assert bottom - top + 1 == prediction.receptive_field.size[0]
    assert geometry.clipped(*prediction.support.pixel) == (
        prediction.support.rows[0], prediction.support.cols[0],
        prediction.support.rows[1], prediction.support.cols[1])
    assert geometry.box(0, 0)[0] < 0 and geometry.clipped(0, 0)[0] == 0


@pytest.mark.parametrize("depth, kernel", [(2, 3), (4, 3), (3, 5)])
def test_masked_stack_has_a_blind_spot_and_never_sees_the_future(depth, kernel):
    spec = receptive_field.masked_spec(depth, kernel, size=4 * depth + 7)
    spot = receptive_field.blind_spot(spec)
    r, c = spot.pixel
    assert not spot.seen[r, c]  # mask A: a pixel does not see itself
    assert not spot.seen[r + 1:, :].any()  # nothing below
    assert not spot.seen[r, c + 1:].any()  # nothing to the right in its row
    assert not (spot.seen & ~spot.causal).any()
    assert spot.seen[r - 1, c] and spot.seen[r, c - 1]
    assert spot.blind.any()  # the wedge above-right that is allowed but unseen
    assert spot.blind[r - 1, c + (kernel // 2) * depth]  # top-right corner of the field
    cats = spot.categories()
    assert set(np.unique(cats)) <= {0, 1, 2, 3, 4} and cats[r, c] == 3


def test_strided_1x1_shortcut_passes_one_pixel_in_four_avgpool_all_four():
    conv = receptive_field.shortcut_support("conv", stride=2, size=8, pixel=(1, 1))
    pool = receptive_field.shortcut_support("avgpool", stride=2, size=8, pixel=(1, 1))
    assert conv.sum() == 1 and conv[2, 2]
    assert pool.sum() == 4 and pool[2:4, 2:4].all()
    with pytest.raises(ValueError, match="shortcut must be"):
        receptive_field.shortcut_support("maxpool")


# --- channel attention of the shown block -------------------------------------------------

def _block_io(spec, image, block):
    """The shown block's input and output, from a forward of the same fresh stack."""
    model = build(spec.replace(depth=block)).eval()
    seen = {}
    model[block - 1].register_forward_hook(
        lambda m, args, out: seen.update(x=args[0].detach(), y=out.detach()))
    with torch.no_grad():
        model(image.unsqueeze(0))
    return model[block - 1], seen["x"], seen["y"]


def test_se_gate_values_are_what_multiplies_each_channel():
    spec = features.image_spec(StackSpec.create("se", depth=2), 32, 32)
    image = torch.rand(3, 32, 32, generator=torch.Generator().manual_seed(1))
    fm = features.feature_maps(spec, image, 2)
    (att,) = fm.attention
    assert att.kind == "gate" and att.where is None
    assert 0 < att.values.min() and att.values.max() < 1
    model = build(spec).eval()  # the same fresh stack: same spec, same seed
    gate = next(m for m in model[1].modules() if isinstance(m, features.Gate))
    seen = {}
    gate.register_forward_hook(lambda m, args, out: seen.update(x=args[0], y=out))
    with torch.no_grad():
        model(image.unsqueeze(0))
    for c, value in enumerate(att.values):  # output / input: one multiplier per channel
        x, y = seen["x"][0, c].flatten(), seen["y"][0, c].flatten()
        nonzero = x.abs() > 1e-6
        assert nonzero.any()
        assert torch.allclose(y[nonzero] / x[nonzero], torch.tensor(float(value)), atol=1e-4)


def test_gc_offsets_are_added_at_every_pixel_and_weights_sum_to_one():
    spec = features.image_spec(StackSpec.create("gc", {"reduction": 1}, depth=1), 16, 16)
    image = torch.rand(3, 16, 16, generator=torch.Generator().manual_seed(2))
    fm = features.feature_maps(spec, image, 1)
    (att,) = fm.attention
    assert att.kind == "context" and att.where.shape == (16, 16)
    assert att.where.min() > 0 and abs(att.where.sum() - 1) < 1e-5
    _, x, y = _block_io(spec, image, 1)
    offset = (y - x)[0]  # (C, H, W): the same value at every pixel of a channel
    assert torch.allclose(offset, torch.tensor(att.values)[:, None, None].expand_as(offset),
                          atol=1e-5)
    context = (x[0].flatten(1) * torch.tensor(att.where).flatten()).sum(1)  # the average
    pool = build(spec)[0].body[0]
    with torch.no_grad():
        assert torch.allclose(context, pool(x)[0, :, 0, 0], atol=1e-5)


def test_a_block_without_attention_reports_none():
    spec = features.image_spec(StackSpec.create("resnet_basic"), 32, 32)
    assert features.feature_maps(spec, torch.rand(3, 32, 32), 1).attention == []


# --- dilation and gridding ------------------------------------------------------------------

@pytest.mark.parametrize("dilations, field, read", [
    ((2, 2, 2), 13, 49), ((1, 2, 3), 13, 169), ((1, 1, 1), 7, 49), ((3, 3), 13, 25),
    ((1, 2, 5), 17, 289)])
def test_gridding_reads_a_lattice_when_the_dilations_share_a_factor(dilations, field, read):
    g = receptive_field.gridding(dilations)
    assert g.field == field == 1 + 2 * sum(dilations)  # the walk's box, by formula
    assert int(g.reach.sum()) == field * field
    assert int(g.seen.sum()) == read and not (g.seen & ~g.reach).any()
    assert g.holes == field * field - read
    cats = g.categories()
    assert (cats == 2).sum() == g.holes and (cats == 1).sum() == read


def test_gridding_refuses_what_the_page_does_not_offer():
    for bad in ((), (0, 1), (9,), (1,) * 7):
        with pytest.raises(ValueError):
            receptive_field.gridding(bad)


@pytest.mark.parametrize("n", [1, 5, 16])
def test_the_feature_grid_is_the_grid_make_subplots_draws(n):
    """fig_feature_grid writes its layout out by hand (for speed): the same axes, domains
    and titles as plotly's make_subplots would give."""
    import numpy as np
    from plotly.subplots import make_subplots

    from cnnviz.render.image_plots import fig_feature_grid

    titles = [f"ch {i + 1}" for i in range(n)]
    rows = -(-n // 4)
    ref = make_subplots(rows=rows, cols=4, subplot_titles=titles, horizontal_spacing=0.02,
                        vertical_spacing=0.12 / rows).layout
    fig = fig_feature_grid(np.zeros((n, 3, 3)), titles)
    got = fig.layout
    for i in range(n):
        axis = "" if i == 0 else str(i + 1)
        for name in (f"xaxis{axis}", f"yaxis{axis}"):
            assert got[name].anchor == ref[name].anchor
            assert got[name].domain == pytest.approx(ref[name].domain, abs=1e-9)
        assert got[f"yaxis{axis}"].scaleanchor == f"x{axis}"
    assert [(a.text, round(a.x, 9), round(a.y, 9)) for a in got.annotations] == \
        [(a.text, round(a.x, 9), round(a.y, 9)) for a in ref.annotations]
    assert len(fig.data) == n and fig.data[-1].xaxis == f"x{'' if n == 1 else n}"
