"""Parts of the analysis pages: A vs B comparison (Explorer, Networks), the gridding section
(Receptive Field), the pages' presets, and the lab that answers lesson questions through
the pages' own caches."""
