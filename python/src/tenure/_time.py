"""Time in the Python API: instants are seconds since the epoch (floats, like ``time.time()``),
durations a ``timedelta`` or seconds; the core counts milliseconds. The conversions, once."""

from __future__ import annotations

from datetime import timedelta
from typing import Optional, Union

from ._errors import InvalidPolicy, TenureError

Duration = Union[timedelta, int, float]

#: The largest time in ms the core represents (u64).
MAX_MS = 2**64 - 1


def to_ms(value: Duration, name: str, error: type[TenureError] = InvalidPolicy) -> int:
    """A duration (timedelta or seconds) in whole milliseconds; refused (naming ``name``)
    if negative, NaN, infinite or beyond the core's range."""
    if isinstance(value, bool) or not isinstance(value, (timedelta, int, float)):
        raise error(f"{name} must be a timedelta or a number of seconds, not {type(value).__name__}")
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    if seconds != seconds or seconds < 0 or seconds == float("inf"):
        raise error(f"{name} must be a finite, non-negative duration, not {value!r}")
    ms = round(seconds * 1000)
    if ms > MAX_MS:
        raise error(f"{name} of {value!r} is beyond the 64-bit millisecond range")
    return ms


def opt_ms(value: Optional[Duration], name: str) -> Optional[int]:
    """``to_ms``, with None (never) kept."""
    return None if value is None else to_ms(value, name)


def seconds(ms: Optional[int]) -> Optional[float]:
    """Milliseconds from the core in seconds (None kept)."""
    return None if ms is None else ms / 1000.0


def duration(ms: Optional[int]) -> Optional[timedelta]:
    """A duration from the core as a ``timedelta`` (None, never, kept)."""
    return None if ms is None else timedelta(milliseconds=ms)
