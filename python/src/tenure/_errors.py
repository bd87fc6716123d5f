"""Exceptions. Every error tenure raises is a :class:`TenureError` with a stable ``code``,
the same code the Rust and JavaScript packages use."""

from __future__ import annotations


class TenureError(Exception):
    """Base class of every tenure error."""

    code = "TENURE_ERROR"


class SessionGone(TenureError):
    """The session was destroyed or expired meanwhile; it is never resurrected."""

    code = "SESSION_GONE"


class InvalidValue(TenureError, ValueError):
    """A value was refused (NaN, a non-integer increment, an overflow...)."""

    code = "INVALID_VALUE"


class InvalidType(InvalidValue, TypeError):
    """A value of a type tenure can't store (set, object, non-str key...)."""

    code = "INVALID_VALUE"


class LimitExceeded(TenureError, ValueError):
    """A size or depth limit would be passed (also ints beyond 64 bits)."""

    code = "LIMIT_EXCEEDED"


class TooManySessions(TenureError):
    """``max_sessions`` is reached and the policy rejects."""

    code = "TOO_MANY_SESSIONS"


class StoreError(TenureError):
    """The store failed; ``__cause__`` holds a Python store's own exception."""

    code = "STORE_ERROR"


class InvalidPolicy(TenureError, ValueError):
    """The configuration was refused (zero timeouts, short ids or secrets...)."""

    code = "INVALID_POLICY"


class DecodeError(TenureError, ValueError):
    """A record or export blob could not be decoded."""

    code = "DECODE_ERROR"


class EntropyError(TenureError):
    """The operating system's randomness failed."""

    code = "ENTROPY_ERROR"


__all__ = [
    "TenureError", "SessionGone", "InvalidValue", "InvalidType", "LimitExceeded",
    "TooManySessions", "StoreError", "InvalidPolicy", "DecodeError", "EntropyError",
]
