"""The Receptive Field page's section on dilated convolutions and their gridding."""
from __future__ import annotations

import streamlit as st

from cnnviz.lessons.pages import Control
from cnnviz.render import image_plots as plots
from cnnviz.topics import receptive_field as rf
from cnnviz.ui import cache, controls


def gridding_section(dilation_control: Control) -> None:
    """Three 3x3 layers of the chosen dilation beside Wang et al.'s 1, 2, 3."""
    st.markdown("A dilated convolution spreads its taps d pixels apart: the field grows by "
                "2d per 3×3 layer at no extra cost (Yu & Koltun 2016). Stack layers of the "
                "same dilation, though, and every tap lands on the same lattice: the output "
                "reads a checkerboard of its field and skips the rest, *gridding*. Dilations "
                "without a common factor, such as 1, 2, 3, fill the field (Wang et al. 2018, "
                "hybrid dilated convolution). Gradient support of the centre output of three "
                "3×3 layers:")
    dilation = controls.draw(dilation_control, st.slider, "Dilation of every layer (left)")
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
