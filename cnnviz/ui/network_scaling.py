"""The Networks page's Scaling tab: the network grown the EfficientNet way (Tan & Le 2019)."""
from __future__ import annotations

import streamlit as st

from cnnviz.core.network import NetworkSpec
from cnnviz.render import network_charts as charts
from cnnviz.topics import networks as topic
from cnnviz.ui import cache
from cnnviz.ui.text import safe_text


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
            except ValueError as e:
                error = str(e)
        reports.append(report)
        if error:
            st.warning(f"{v.name}: {safe_text(error, limit=300)}", icon="⚠️")
    st.plotly_chart(charts.fig_scaling(variants, reports, topic.compound_rule(phi)),
                    width="stretch", key="net_scaling")
    st.dataframe(charts.scaling_rows(variants, reports), hide_index=True, width="stretch")
    st.caption("Depth is rounded up per part and widths to a multiple of 8, as "
               "torchvision's EfficientNet does; the released B1 to B7 pick their "
               "multipliers and input sizes by hand near this rule. The MACs grow about "
               "as depth × width² × resolution², the parameters as depth × width² and "
               "not at all with the resolution. Accuracy is not computed here: the paper "
               "found compound scaling more accurate per FLOP than any single dimension "
               "(Fig. 3).")
