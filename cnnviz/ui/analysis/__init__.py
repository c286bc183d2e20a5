"""Parts of the analysis pages: the Block Explorer's description, headline and tabs, Plain vs
Residual's toggles, ratios and experiments, A vs B comparison (Explorer, Networks), the
gridding section (Receptive Field), the pages' presets, and the lab that answers lesson
questions through the pages' own caches."""
