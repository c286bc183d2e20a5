"""Receptive field: theoretical, effective, the PixelCNN blind spot, dilation and gridding,
the strided shortcut."""
import streamlit as st

from cnnviz import ui
from cnnviz.core import images
from cnnviz.core.errors import InputError
from cnnviz.lessons.glossary import link
from cnnviz.pages import RECEPTIVE_FIELD
from cnnviz.render import image_plots as plots
from cnnviz.topics import features
from cnnviz.topics import receptive_field as rf
from cnnviz.ui.analysis.gridding import gridding_section
from cnnviz.ui.frame import controls

st.title("Receptive field")
st.caption("Which input pixels one output pixel can see (theory), which ones it actually "
           "listens to (the gradient), and two designs where pixels go missing.")
spec = ui.spec_or_stop()
chosen = ui.image_input("rf", default_size=64)
if chosen is None:
    st.stop()
label, data, side = chosen
with ui.stop_on_error(f"This block cannot take a {side}×{side} RGB image"):
    spec = features.image_spec(spec, side, side)
    geometry, steps, notes = ui.cache.rf_theory(spec)
pixels = images.image_array(images.decode_image(data), side, side)

# --- 1. theory ---------------------------------------------------------------------------
st.header(RECEPTIVE_FIELD.heading("theoretical-field"), anchor="theoretical-field")
out_h, out_w = geometry.output_hw
centre = (out_h // 2, out_w // 2)
c1, c2 = st.columns(2)
row_tool, col_tool = RECEPTIVE_FIELD.control("row"), RECEPTIVE_FIELD.control("col")
row = c1.slider(row_tool.label, 0, out_h - 1, centre[0], key=row_tool.key) if out_h > 1 else 0
col = c2.slider(col_tool.label, 0, out_w - 1, centre[1], key=col_tool.key) if out_w > 1 else 0
box, clipped = geometry.box(row, col), geometry.clipped(row, col)
jump_h, jump_w = geometry.rf_h.jump, geometry.rf_w.jump
left, right = st.columns([3, 2])
with left:
    st.plotly_chart(plots.fig_image_box(pixels, box, clipped, geometry.pixel_box(row, col),
                                        f"output ({row}, {col}) of {out_h}×{out_w}"),
                    width="stretch", key="rf_box")
with right:
    if geometry.is_global:
        st.metric("Receptive field", "global", help="Every output pixel can read every "
                  "input pixel of the image. "
                  + link("receptive-field"))
    else:
        size = (box[2] - box[0] + 1, box[3] - box[1] + 1)
        st.metric("Receptive field (theory)", f"{size[0]} × {size[1]}",
                  help="The height × width of the box the layer-by-layer recurrence gives "
                       "this output pixel, padding included: the most input pixels it can "
                       "read (the exact field can be smaller; a note below says so when it "
                       "is). " + link("receptive-field"))
        st.metric("Inside the image", f"{clipped[2] - clipped[0] + 1} × "
                                      f"{clipped[3] - clipped[1] + 1}",
                  help="The part of that field that lies on the image, not on the zeros "
                       "padded around it. " + link("padding"))
        st.metric("Jump (input pixels per output step)", f"{jump_h} × {jump_w}",
                  help="How far, in input pixels, the field moves when the output pixel "
                       "moves by one. " + link("jump"))
        st.caption(f"Rows {box[0]}…{box[2]}, columns {box[1]}…{box[3]}. Red: the part inside "
                   f"the image; dashed yellow: the part in the padding; cyan: where the output "
                   f"pixel sits (its stride step).")
st.markdown("Layer by layer (Araujo et al., Distill 2019), with *r* the field and *j* the "
            "jump, both starting at 1 on the input:")
st.latex(r"r_{out} = r_{in} + (k-1)\cdot d\cdot j_{in}, \qquad j_{out} = j_{in}\cdot s")
shown = steps[:30]
for step in shown:
    st.latex(step.latex())
if len(steps) > len(shown):
    st.caption(f"… {len(steps) - len(shown)} more layers; the last gives "
               f"r = {steps[-1].r_out}, j = {steps[-1].j_out}.")
for note in notes:
    st.caption(note)

# --- 2. effective ------------------------------------------------------------------------
st.header(RECEPTIVE_FIELD.heading("effective-field"), anchor="effective-field")
st.markdown(f"Luo et al. 2016, §2: the mean of $|\\partial y_{{\\text{{centre}}}} / \\partial x|$ "
            f"over {rf.ERF_SAMPLES} random inputs and the image, with this stack's random "
            f"weights. The dotted box is the theoretical field of the centre pixel.")
variants = features.plain_and_residual(spec)
columns = st.columns(len(variants))
for (title, s), column in zip(variants, columns):
    with column:
        try:
            erf = ui.cache.effective_rf(s, data, ui.current_device())
        except InputError as e:
            ui.show_error(e)
            continue
        t = erf.theory
        st.plotly_chart(plots.fig_erf(pixels, erf.grad, (t.rows[0], t.cols[0], t.rows[1],
                                                         t.cols[1]),
                                      f"{title} · centre output {erf.pixel}".strip(" ·")),
                        width="stretch", key=f"rf_erf_{title}")
        a, b = st.columns(2)
        a.metric("50% of the gradient in", f"{erf.share50:.1%}",
                 help=f"The fewest pixels holding half of the gradient's mass, as a share of "
                      f"the centre output pixel's exact field clipped to the image (the "
                      f"dotted box): {erf.n50} of its {erf.theory_area} pixels. "
                      f"{link('effective-receptive-field')}")
        b.metric("90% of the gradient in", f"{erf.share90:.1%}",
                 help=f"The fewest pixels holding 90% of the gradient's mass, as a share of "
                      f"the same clipped exact field: {erf.n90} of its {erf.theory_area} "
                      f"pixels. {link('effective-receptive-field')}")
        sup = erf.support
        st.caption(f"Non-zero gradient: rows {sup.rows[0]}…{sup.rows[1]}, columns "
                   f"{sup.cols[0]}…{sup.cols[1]}; theory: rows {t.rows[0]}…{t.rows[1]}, "
                   f"columns {t.cols[0]}…{t.cols[1]}.")
st.caption("The gradient mass gathers in the middle of the theoretical field, roughly like a "
           "Gaussian: the effective field is a fraction of the theoretical one (Luo et al. "
           "2016, §2).")

# --- 3. masked -----------------------------------------------------------------------------
st.header(RECEPTIVE_FIELD.heading("blind-spot"), anchor="blind-spot")
st.markdown("A masked convolution follows raster order: inside its kernel it reads the rows "
            "above the pixel (left of it, above it and right of it) and the pixels to its left "
            "on its own row; mask A (first layer) also hides the pixel itself, mask B (later "
            "layers) keeps it (van den Oord et al. 2016a, §3.4). Stacked, the field grows "
            "upwards, but a wedge above and to the right is never reached: allowed pixels "
            "the model cannot use. Van den Oord et al. (2016b, *Conditional Image Generation "
            "with PixelCNN Decoders*, §2.2, Fig. 1) point out this blind spot, and their Gated "
            "PixelCNN removes it with a vertical and a horizontal stack.")
c1, c2 = st.columns(2)
ctl = controls.of(RECEPTIVE_FIELD)
controls.start(RECEPTIVE_FIELD, spec)
depth = controls.draw(ctl["mask_depth"], c1.slider)
kernel = controls.draw(ctl["mask_kernel"], c2.selectbox)
spot = ui.cache.blind_spot(depth, kernel)
st.plotly_chart(plots.fig_categories(spot.categories(), plots.BLIND_COLOURS,
                                     f"{depth} masked {kernel}×{kernel} layers: gradient "
                                     f"support of the centre pixel"),
                width="stretch", key="rf_blind")
st.caption(f"{int(spot.blind.sum())} allowed pixels inside the field are never seen; no "
           f"pixel below the centre, or right of it on its row, is "
           f"({int((spot.seen & ~spot.causal).sum())} future pixels seen).")

# --- 4. dilation ---------------------------------------------------------------------------
st.header(RECEPTIVE_FIELD.heading("gridding"), anchor="gridding")
gridding_section(ctl["dilation"])

# --- 5. shortcut ---------------------------------------------------------------------------
st.header(RECEPTIVE_FIELD.heading("downsampling-shortcut"),
          anchor="downsampling-shortcut")
st.markdown("When a residual block halves the resolution, its shortcut must too. ResNet's "
            "strided 1×1 convolution reads one pixel of every 2×2 window and drops the other "
            "three; averaging the window first (ResNet-D: He et al. 2019, *Bag of Tricks*, "
            "Fig. 2c) lets all four through. Gradient support of output pixel (1, 1) of the "
            "shortcut alone, on an 8×8 input:")
columns = st.columns(2)
for kind, column in zip(rf.SHORTCUTS, columns):
    with column:
        passed = ui.cache.shortcut_support(kind)
        st.plotly_chart(plots.fig_shortcut(passed, (2, 2, 3, 3),
                                           f"{rf.SHORTCUTS[kind]}: "
                                           f"{int(passed.sum())} of 4 pixels"),
                        width="stretch", key=f"rf_short_{kind}")
