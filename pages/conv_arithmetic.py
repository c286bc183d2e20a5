"""Convolution arithmetic: predict the output size, then watch the kernel slide."""
import streamlit as st

from cnnviz import ui
from cnnviz.core import arithmetic as ar
from cnnviz.core.errors import InputError
from cnnviz.pages import CONV_ARITHMETIC
from cnnviz.render.arith_plots import hand_sum_latex
from cnnviz.ui.analysis import presets
from cnnviz.ui.frame import controls, predict

st.title("🧮 Convolution arithmetic")
st.caption("Which input cells does each output cell read? Set the geometry, predict the output "
           "size, reveal, then watch the window slide. The frames use the same formulas as the "
           "analysis, and the tests check every frame against what torch reads.")

state = st.session_state
ctl = controls.of(CONV_ARITHMETIC)
controls.start(CONV_ARITHMETIC, None)

# --- the numbers: the picker's geometry where it fits, page-local widgets to override ---
spec = ui.current_spec()
config = spec.block_params()[0] if spec is not None else None
defaults = presets.page_defaults(config, *((spec.height, spec.width) if spec else (None, None)))
if state.get("arith_seeded_from") != defaults:  # a new picker choice re-seeds the widgets
    for name, value in defaults.items():
        state[CONV_ARITHMETIC.control(name).key] = value
    state["arith_seeded_from"] = defaults
if spec is not None:
    st.caption(f"Started from the picker's **{spec.entry.title}** (kernel, stride, padding and "
               f"dilation where the block has them); change them here freely.")

mode = controls.draw(ctl["mode"], st.radio, horizontal=True,
                     format_func=lambda m: ctl["mode"].text(m) or m)
names = ["height", "width", "kernel_size", "stride", "padding"]
names += {"conv": ["dilation"], "transposed": ["dilation", "output_padding"]}.get(mode, [])
cols = st.columns(len(names))
values = {}
for col, name in zip(cols, names):
    c = CONV_ARITHMETIC.control(name)
    values[name] = controls.draw(c, col.number_input, step=1)

try:
    anim, slide = ui.cache.arith_slide(mode, tuple(values.items()))
except InputError as e:
    ui.show_error(e)
    anim = None

# --- predict, then reveal ---
if anim is not None:
    st.subheader("Your prediction")
    g1, g2, g3 = st.columns([1, 1, 1])
    guess = (g1.number_input("output H", 0, 200, 0, key="arith_guess_h"),
             g2.number_input("output W", 0, 200, 0, key="arith_guess_w"))

    def explain_size() -> None:
        """The output size's formulas (and a transposed convolution's equivalent steps)."""
        for formula in anim.formulas:
            st.latex(formula)
        if mode == "transposed":
            st.markdown("**As zero insertion + padding + a stride-1 convolution** (along H):")
            for step in ar.transposed_steps_latex(values["height"], values["kernel_size"],
                                                  values["stride"], values["padding"],
                                                  values["dilation"],
                                                  values["output_padding"]):
                st.latex(step)
            st.caption("The padding that makes the sizes match torch is d(k-1)-p on each "
                       "side, k-p-1 for d = 1 (Dumoulin & Visin 2016, §4).")

    revealed = predict.predict_then_reveal(
        "arith_reveal", (mode, tuple(values.items())),
        [predict.Guess(f"{axis}_out", g, truth)
         for axis, g, truth in zip("HW", guess, anim.out_shape)],
        explain_size, where=g3,
        hint="Type your prediction and press **Reveal** to see the answer and the formula.")

    with st.expander("Watch the kernel slide (▶ play, or drag the slider)", expanded=revealed):
        st.plotly_chart(slide, key="arith_slide", width="stretch")
        skipped = anim.rows.never_read() + anim.cols.never_read()
        st.caption(f"{anim.out_shape[0] * anim.out_shape[1]} output cells, one frame each. "
                   + (f"{len(skipped)} row/column(s) of the padded input are never read: the "
                      f"stride steps over them and the floor drops the last partial window."
                      if skipped else "Every cell of the padded input is read at least once."))

# --- one output value by hand ---
st.subheader(CONV_ARITHMETIC.heading("by-hand"), anchor="by-hand")
st.caption("Each output of a convolution is a weighted sum: lay the kernel over a window of "
           "the input, multiply each input number by the weight on it, and add the products "
           "(a bias would be added last; there is none here). torch slides the kernel as it "
           "is, without turning it around: strictly a cross-correlation (Goodfellow et al. "
           "2016, *Deep Learning*, §9.1). Stride 1, no padding: a 5×5 input gives 3×3.")
c1, c2, c3 = st.columns(3)
seed = controls.draw(ctl["ws_seed"], c1.number_input,
                     help="another set of small whole numbers")
row = controls.draw(ctl["ws_row"], c2.number_input)
col = controls.draw(ctl["ws_col"], c3.number_input)
hand, hand_figure = ui.cache.arith_hand(seed, row, col)
st.plotly_chart(hand_figure, key="arith_hand", width="stretch")
g1, g2 = st.columns([1, 2])
hand_guess = g1.number_input("Your value", -99, 99, 0, key="arith_hand_guess")
value = int(hand.output[row - 1, col - 1])


def explain_sum() -> None:
    """The window's sum written out, and what torch and a flipped kernel give."""
    st.latex(hand_sum_latex(hand, row - 1, col - 1))
    st.caption(f"The sum written out gives {hand.by_hand(row - 1, col - 1)}; torch's conv2d "
               f"on the same numbers gives {value}. With the kernel turned by 180° (the "
               f"convolution of signal processing) this window would give "
               f"{int(hand.flipped[row - 1, col - 1])}.")


predict.predict_then_reveal(
    "arith_hand_reveal", (seed, row, col),
    [predict.Guess(f"output ({row}, {col})", hand_guess, value)], explain_sum,
    label="Reveal the sum", where=g2, primary=False,
    hint="Work out the value under the outlined window, type it, and press **Reveal the sum**.")

# --- checkerboard artifacts ---
st.subheader(CONV_ARITHMETIC.heading("checkerboard"), anchor="checkerboard")
st.caption("A transposed conv, nearest-upsample + 3x3 conv and a sub-pixel conv (3x3 conv "
           "to 4 channels + PixelShuffle(2), Shi et al. 2016), all real torch modules, on the "
           "same constant image (Odena et al. 2016). Uneven kernel overlap shows as a "
           "pattern; the statistic is the std of the output away from the borders.")
c1, c2 = st.columns(2)
k = controls.draw(ctl["cb_kernel"], c1.radio, horizontal=True)
weights = controls.draw(ctl["cb_weights"], c2.radio, horizontal=True,
                        format_func=ctl["cb_weights"].text)
cb, cb_figure = ui.cache.arith_checkerboard(k, weights)
st.plotly_chart(cb_figure, key="arith_cb", width="stretch")
st.markdown(f"Measured interior std: transposed **{cb.std_transposed:.3g}**, "
            f"upsample+conv **{cb.std_upsample_conv:.3g}**, "
            f"sub-pixel conv **{cb.std_subpixel:.3g}**. "
            + ("With k divisible by s the all-ones overlap is even, so no pattern; random "
               "weights still show one. " if k % 2 == 0 and weights == "uniform" else "")
            + "Upsample+conv stays flat for any weights: every pixel sees the same taps. "
            "The sub-pixel conv is flat because its four sub-kernels start equal (ICNR, "
            "Aitken et al. 2017); with independent random sub-kernels each pixel of a 2x2 "
            f"block gets its own sum (std **{cb.std_subpixel_untied:.3g}**).")
