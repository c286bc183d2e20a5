"""Validation of user input: a ValueError with a sentence a student understands."""
from __future__ import annotations


def require(ok: bool, message: str) -> None:
    """Raise ValueError(message) unless ok; for user input, never assert."""
    if not ok:
        raise ValueError(message)


def divides(channels: int, groups: int, what: str) -> None:
    require(groups >= 1 and channels % groups == 0,
            f"groups = {groups} does not divide the {channels} {what}: a grouped convolution "
            f"splits channels into equal groups. Pick groups from "
            f"{', '.join(str(g) for g in range(1, channels + 1) if channels % g == 0)}.")


def grouped_conv(in_channels: int, out_channels: int, groups: int) -> None:
    divides(in_channels, groups, "input channels")
    divides(out_channels, groups, "output channels")
