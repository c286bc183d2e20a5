"""The Receptive Field page's section on dilated convolutions and their gridding."""
from __future__ import annotations

import streamlit as st

from cnnviz.pages import Control
from cnnviz.render import image_plots as plots
from cnnviz.topics import receptive_field as rf
from cnnviz.ui.frame import cache, controls
from cnnviz.ui.frame.widgets import table


def gridding_section(dilation_control: Control) -> None:
    """Three 3x3 layers of the chosen dilation beside Wang et al.'s 1, 2, 3, and the rule
    that tells a stack that fills its field from one that leaves holes."""
    st.markdown("A dilated convolution spreads its taps d pixels apart: each 3×3 layer widens "
                "the field by 2d for the cost of a 3×3 (Yu & Koltun 2016, §2). Alone, a layer "
                "of dilation d reads a lattice, every d-th row and column of its field. Stack "
                "layers of the same dilation and every tap stays on that lattice: the output "
                "never reads the rest of its field, only about 1/d² of it, *gridding* (Wang "
                "et al. 2018, §3.2). Gradient support of the centre output of three 3×3 "
                "layers:")
    dilation = controls.draw(dilation_control, st.slider)
    for dilations, column in zip(((dilation,) * 3, rf.HYBRID), st.columns(2)):
        with column:
            grid = cache.gridding(dilations)
            side = grid.field
            title = f"dilations {', '.join(map(str, dilations))}: field {side}×{side}"
            st.plotly_chart(plots.fig_categories(grid.categories(), plots.GRIDDING_COLOURS,
                                                 title),
                            width="stretch", key=f"rf_grid_{'_'.join(map(str, dilations))}")
            st.caption(f"Reads {int(grid.seen.sum())} of the {side * side} pixels of its "
                       f"field; {grid.holes} holes.")
    bad = rf.hdc_gap((1, 2, 9))
    st.markdown("Dilations without a common factor are needed, but they are not enough: "
                "the table counts the holes of a few stacks. Wang et al.'s rule for hybrid "
                "dilated convolution (2018, §3.2): start with dilation 1, set Mₙ = rₙ and "
                "Mᵢ = max(Mᵢ₊₁ − 2rᵢ, Mᵢ₊₁ − 2(Mᵢ₊₁ − rᵢ), rᵢ) going down the stack, and "
                "keep M₂, the widest gap the later layers leave, at most the kernel size K. "
                f"For K = 3, 1, 2, 9 fails it (M₂ = {bad}), as the paper says.")
    table([{"dilations": ", ".join(map(str, d)), "M₂": rf.hdc_gap(d),
                   "rule holds": "yes" if rf.hdc_holds(d) else "no",
                   "holes (measured)": cache.gridding(d).holes}
                  for d in rf.GRIDDING_EXAMPLES])
    st.caption("Holes: pixels inside the field the centre output's gradient never reaches, "
               "counted by cnnviz. 2, 3, 4 has M₂ = 3 but starts at dilation 2: the rule "
               "counts on a first layer of dilation 1, whose K adjacent taps fill any gap of "
               "up to K pixels.")
