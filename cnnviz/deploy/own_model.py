"""The app's door for a person's own model: environment variables that `cnnviz app --model`
sets for the one `streamlit run app.py` it starts (or a person sets by hand), and that the
Networks page reads. A served classroom never executes code it did not start with: the
hall refuses --model and strips these variables from its app processes."""
from __future__ import annotations

from collections.abc import Mapping

MODEL_ENV = "CNNVIZ_MODEL"  # FILE.py:NAME
MODEL_ARGS_ENV = "CNNVIZ_MODEL_ARGS"  # a JSON object of keyword arguments
MODEL_INPUT_ENV = "CNNVIZ_MODEL_INPUT"  # C,H,W
MODEL_VARIABLES = (MODEL_ENV, MODEL_ARGS_ENV, MODEL_INPUT_ENV)


def without_model(environ: Mapping[str, str]) -> dict[str, str]:
    """`environ` less the own-model variables: what a hall's app process inherits."""
    return {k: v for k, v in environ.items() if k not in MODEL_VARIABLES}
