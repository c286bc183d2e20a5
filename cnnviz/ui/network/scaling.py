"""The Networks page's Scaling tab: the network grown the EfficientNet way (Tan & Le 2019)."""
from __future__ import annotations

import streamlit as st

from cnnviz.core.errors import InputError
from cnnviz.core.network import NetworkSpec
from cnnviz.render import network_charts as charts
from cnnviz.topics import networks as topic
from cnnviz.ui.frame import cache
from cnnviz.ui.frame.text import safe_text
from cnnviz.ui.frame.widgets import table


def scaling_tab(spec: NetworkSpec, device: str) -> None:
    st.markdown("**Scale this network the EfficientNet way**: deeper (α = "
                f"{topic.ALPHA}), wider (β = {topic.BETA}) or at a higher resolution "
                f"(γ = {topic.GAMMA}), each raised to the power φ, one at a time or all "
                "three together (compound scaling, Tan & Le 2019, §3.3).")
    phi = st.slider("φ (about how many doublings of the cost)", 1, topic.MAX_PHI, 1,
                    key="net_phi")
    variants = topic.scaling_variants(spec, phi)
    reports = []
    for v in variants:  # a variant that cannot be built or run says why
        report, error = None, v.error
        if v.spec is not None:
            try:
                report = cache.network_predicted(v.spec, device)
            except InputError as e:
                error = str(e)
        reports.append(report)
        if error:
            st.warning(f"{v.name}: {safe_text(error, limit=300)}", icon="⚠️")
    st.plotly_chart(charts.fig_scaling(variants, reports, topic.compound_rule(phi)),
                    width="stretch", key="net_scaling")
    table(charts.scaling_rows(variants, reports))
    st.caption("Depth repeats each stage's blocks, rounded up per stage (2 blocks become 3 "
               "at ×1.2, so a shallow network grows by more than the factor; a VGG block "
               "gets more convolutions instead, since its pool must not repeat); the stem "
               "and the head are never repeated. Widths round to a multiple of 8, as "
               "torchvision's EfficientNet does. The released B1 to B7 do not take φ in this "
               "rule: their width, depth and input size come from a table in the authors' "
               "released code (Tan & Le 2019, the EfficientNet builder in tensorflow/tpu): B1 "
               "width × 1.0, depth × 1.1 at 240 px, B7 × 2.0, × 3.1 at 600 px. The MACs "
               "grow about as depth × width² × resolution² (the depth as rounded), the "
               "parameters as depth × width² and not at all with the resolution. Accuracy "
               "is not computed here: the paper found compound scaling more accurate for "
               "the FLOPs than scaling one dimension (Tan & Le 2019, Fig. 8, Table 3).")
