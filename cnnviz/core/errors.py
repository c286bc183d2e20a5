"""What cnnviz refuses from a person, as exception types: each carries the sentence shown.

A page, the CLI and the lesson checker catch `InputError` (or one of its kinds) and show
its message; any other exception is a bug and is never turned into a "your input" sentence.
Every kind is a ValueError, so code that catches ValueError (the CLI's one line and exit 2)
keeps working.
"""
from __future__ import annotations


class InputError(ValueError):
    """Something a person gave (a field, a link, a file, a typed text) that cnnviz refuses;
    str(error) is the sentence to show."""


class SpecError(InputError):
    """A stack, block or layer configuration that cannot be built or run (a parameter out of
    range, a shape that does not line up, a geometry with no output)."""


class BudgetError(InputError):
    """A request the live server will not run; the message says what to reduce."""


class ImageError(InputError):
    """An uploaded image or a canvas drawing that cannot be used."""


class NetworkTextError(InputError):
    """A network's text (stages and parts, as the Networks page and its links write them)
    that does not describe a network cnnviz builds."""


class AnswerError(InputError):
    """A typed answer the one number rule (cnnviz.core.numbers) refuses."""


class ModelError(InputError):
    """A person's own PyTorch model (a file, a name in it, its constructor, its forward)
    that cnnviz cannot load, trace or run."""
