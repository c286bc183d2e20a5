"""A lesson step's sources: where each claim comes from, or that cnnviz computed it."""
from __future__ import annotations

import re
from collections.abc import Mapping

from cnnviz.lessons.model import COMPUTED
from cnnviz.lessons.reader import Reader

# A paper's result named in a step: an author list, or a year in brackets or after a name.
NAMES_A_PAPER = re.compile(r"\bet al\b|\(\s*(19|20)\d\d\s*[a-z]?\s*\)|[A-Z][a-z]+ (19|20)\d\d\b")


def read_sources(r: Reader, raw: Mapping, where: str) -> tuple[str, ...]:
    """A step's sources: a list of texts (paper, year, section/figure/table), or
    [\"computed\"] when the step states only what cnnviz computes."""
    value = raw.get("sources")
    if value is None:
        r.problem(where, "missing; list where the step's claims come from, e.g. "
                  'sources = ["He et al. 2016, §4.1, Fig. 5"], or sources = '
                  f'["{COMPUTED}"] when it states only what cnnviz computes.')
        return ()
    if not (isinstance(value, list) and value
            and all(isinstance(x, str) and x.strip() for x in value)):
        r.problem(where, f"must be a list of non-empty texts, not {value!r}.")
        return ()
    sources = tuple(" ".join(x.split()) for x in value)
    if COMPUTED in sources and len(sources) > 1:
        r.problem(where, f'"{COMPUTED}" stands alone: a step that cites a paper lists only '
                  f"papers.")
    if sources == (COMPUTED,):
        found_question = raw.get("question")
        question: Mapping = found_question if isinstance(found_question, Mapping) else {}
        said = " ".join(str(x) for x in (raw.get("text"), question.get("ask"),
                                         question.get("explain")) if isinstance(x, str))
        found = NAMES_A_PAPER.search(said)
        if found:
            r.problem(where, f"the step names a paper's result ({found.group(0)!r}) but "
                      f'its sources say only "{COMPUTED}": name the paper, year and '
                      f"section, figure or table.")
    return sources
