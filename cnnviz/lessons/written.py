"""The numbers a lesson's text writes, read from Markdown and LaTeX (for the question
rules of cnnviz.lessons.rules): 16, 0.25, 1e-3, 4,718,592, 3×3 (two numbers), 2⁻¹⁹,
"15.5 G", "61 million" and the words two to ninety; not years, nor what follows §, Fig.,
Table or Eq., nor digits inside names (ResNet-50, B0, log10).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

SMALL = 10  # whole numbers below this are written everywhere for other reasons


@dataclass(frozen=True)
class Written:
    """A number as a step writes it."""

    value: float
    text: str
    field: str  # title, text, ask, option, explain
    power: bool = False  # 10⁻⁸, 1e-8, 2^{-19}
    percent: bool = False
    decimal: bool = False  # written with a point or an exponent: never a count
    word: bool = False  # "four": counts things, never an operand

    @property
    def distinct(self) -> bool:
        """Worth a flag on its own: not a small whole number."""
        return abs(self.value) >= SMALL or self.decimal or self.power


_SUPER = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+")
_REFERENCE = re.compile(
    r"(§|\b(?:Figs?|Figures?|Tables?|Tabs?|Eqs?|Equations?|Sections?|Secs?|Appendix|"
    r"Algorithm)\b\.?)\s*[A-Z]?\d+(?:\.\d+)*[a-z]?(?:\s*(?:[-–,]|and)\s*\d+(?:\.\d+)*[a-z]?)*")
_NUMBER = re.compile(
    r"(?P<sign>-)?(?P<digits>\d{1,3}(?:,\d{3})+(?!\d)|\d+(?:\.\d+)?|\.\d+)"
    r"(?:[eE](?P<exp>[-+]?\d+))?"
    r"(?:\s*\^\s*\{?\s*(?P<pow>[-+]?\d+(?:\.\d+)?)\s*\}?)?"
    r"(?P<pct>\s*%)?"
    r"(?:\s*(?P<mult>thousand|million|billion|[kKMGB])(?![\w]))?")
_MULTIPLIERS = {"thousand": 1e3, "k": 1e3, "K": 1e3, "million": 1e6, "M": 1e6,
                "billion": 1e9, "G": 1e9, "B": 1e9}
_WORDS = {w: float(i) for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve".split())}
_WORDS |= {w: 10.0 * i for i, w in enumerate(
    "twenty thirty forty fifty sixty seventy eighty ninety".split(), 2)}
_WORD = re.compile(r"\b(" + "|".join(_WORDS) + r")\b", re.IGNORECASE)


def plain_text(text: str) -> str:
    """The text with LaTeX and Unicode spellings of numbers made plain."""
    text = text.replace("\u2212", "-").replace("\u00a0", " ").replace("\u202f", " ")
    text = re.sub(r"([⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺]+)", lambda m: "^{" + m.group(1).translate(_SUPER) + "}",
                  text)
    text = re.sub(r"(\d)\\,(?=\d{3})", r"\1", text)  # 4\,718\,592
    text = re.sub(r"(\d)\{,\}(\d)", r"\1.\2", text)  # 0{,}25
    text = re.sub(r"\\(?:times|cdot)\b", "×", text)
    text = re.sub(r"\\[A-Za-z]+", " ", text)  # other commands: \frac, \mathrm, \text
    text = re.sub(r"(\d)\s*[xX]\s*(?=\d)", r"\1×", text)  # 3x3
    text = _REFERENCE.sub(" ", text)
    return text


def _is_year(digits: str) -> bool:
    return digits.isdigit() and len(digits) == 4 and 1950 <= int(digits) <= 2035


def numbers(text: str, field: str = "text") -> list[Written]:
    """Every number `text` writes (see the module's docstring for what counts)."""
    text = plain_text(text)
    found: list[Written] = []
    for m in _NUMBER.finditer(text):
        start = m.start("digits")
        before = text[max(0, start - 2):start]
        if m.group("sign") is None and before[-1:] and (before[-1].isalnum() or
                                                        before[-1] in "._"):
            continue  # log10, conv2d, B0, 1.5 read from its middle
        if m.group("sign") is None and before[-1:] == "-" and before[:1].isalnum():
            continue  # ResNet-50, fan-2
        sign_start = m.start()
        if m.group("sign") is not None:
            prev = text[sign_start - 1:sign_start]
            if prev and (prev.isalnum() or prev in "._"):
                continue  # ResNet-50 read from its hyphen
        digits = m.group("digits")
        if _is_year(digits) and not (m.group("exp") or m.group("pow") or m.group("pct")):
            continue
        value = float(digits.replace(",", ""))
        power = False
        if m.group("exp"):
            value *= 10.0 ** int(m.group("exp"))
            power = True
        if m.group("pow"):
            exponent = float(m.group("pow"))
            try:
                value = value ** exponent
            except OverflowError:
                continue
            power = True
        mult = m.group("mult")
        if mult:
            value *= _MULTIPLIERS[mult]
        if m.group("sign"):
            value = -value
        if not math.isfinite(value):
            continue
        found.append(Written(value, m.group(0).strip(), field, power, bool(m.group("pct")),
                             "." in digits or bool(m.group("exp"))))
    for m in _WORD.finditer(text):
        found.append(Written(_WORDS[m.group(1).lower()], m.group(1), field, word=True))
    return found
