"""Cost & bottlenecks: params and MACs of rival designs, predicted and confirmed by torch."""
import streamlit as st

from cnnviz import ui
from cnnviz.core import arithmetic as ar
from cnnviz.lessons.glossary import link
from cnnviz.pages import COST_LAB
from cnnviz.render.arith_plots import fig_cost_bars
from cnnviz.topics import costs
from cnnviz.ui.frame import controls, predict

st.title("⚖️ Cost & bottlenecks")
st.caption("Each design is a real PyTorch module. Its parameters and MACs are predicted "
           "layer by layer from formulas, then confirmed by torch: it counts the weights the "
           "module really holds, and its own FLOP counter runs the module (FLOPs = 2 × MACs).")
state = st.session_state


topic = controls.draw(controls.of(COST_LAB)["topic"], st.radio, horizontal=True)
_, knobs = costs.TOPICS[topic]
st.caption(costs.CAPTIONS[topic])
values: dict[str, int] = {}
keys = {name: c.key for name, c in controls.of(COST_LAB, {"topic": topic}).items()}
for col, knob in zip(st.columns(len(knobs)), knobs):
    key = keys[knob.name]  # the page's widget keys are its PageSpec's
    if knob.kind == "divisors":
        options = ar.divisors(values[knob.of])
        if state.get(key) not in options:
            state[key] = max(g for g in options if g <= knob.default)
        values[knob.name] = col.select_slider(knob.label, options, key=key)
    elif knob.kind == "slider":
        values[knob.name] = col.slider(knob.label, knob.low, knob.high, knob.default, key=key)
    else:
        values[knob.name] = col.number_input(knob.label, knob.low, knob.high, knob.default,
                                             step=1, key=key)

with ui.stop_on_error():
    c = ui.cache.cost_comparison(topic, **values)

# --- predict, then reveal ---
st.subheader("Your prediction")
p1, p2, p3, p4 = st.columns([2, 2, 2, 1])
names = [d.name for d in c.designs]
which = p1.selectbox("design", names, index=len(names) - 1, key="cost_design")
guess_params = p2.number_input("parameters", 0, 10**12, 0, step=1, key="cost_guess_params")
guess_macs = p3.number_input("MACs", 0, 10**15, 0, step=1, key="cost_guess_macs")
design = c.designs[names.index(which)]


def explain_costs() -> None:
    """The formulas of the comparison, and the share of MACs the cheaper design saves."""
    for formula in c.formulas:
        st.latex(formula)
    if len(c.designs) == 2:
        saved = round(100 * costs.savings(c), 1) + 0.0  # + 0.0: no "-0.0%"
        st.metric(f"MACs saved by {c.designs[1].name}", f"{saved:.1f}%",
                  help="One minus the second design's multiply-accumulates divided by the "
                       "first's: the share of the first design's MACs the second does without "
                       "(negative when the second does more). " + link("mac"))


revealed = predict.predict_then_reveal(
    "cost_reveal", (topic, tuple(values.items()), which),
    [predict.Guess("parameters", guess_params, design.params),
     predict.Guess("MACs", guess_macs, design.macs)],
    explain_costs, where=p4,
    hint="Type your prediction for the chosen design and press **Reveal**.")

with st.expander("Counts of every design, predicted and confirmed", expanded=revealed):
    st.plotly_chart(fig_cost_bars(c), key="cost_bars", width="stretch")
    ui.table([{
        "design": d.name, "parameters": d.params, "MACs": d.macs,
        "MACs ratio": f"{float(c.macs_ratio(i)):.4g}", "output": "x".join(
            map(str, d.output_shape[1:])),
        "receptive field": d.rf.text("x"),
        "nonlinearities": d.nonlinearities,
        "torch": ("✅ " if d.confirmed else "❌ ") + f"{d.measured_params:,} params, "
                 f"{d.measured_flops:,} FLOPs"} for i, d in enumerate(c.designs)])
    for note in c.notes:
        st.markdown(note)
    if c.confirmed:
        st.success("✅ torch confirms every count: the weights it finds = the predicted "
                   "parameters, and its FLOP counter = 2 × the predicted MACs.")
    else:
        st.error("❌ torch disagrees with a prediction (see the last column).")
