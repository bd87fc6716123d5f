"""``tenure.redis``: sessions in Redis (or Valkey) through redis-py.

    import redis, tenure, tenure.aio
    from tenure.redis import RedisStore, AsyncRedisStore

    sessions = tenure.SessionManager(store=RedisStore(redis.Redis()))          # Flask, scripts
    sessions = tenure.aio.SessionManager(store=AsyncRedisStore(redis.asyncio.Redis()))  # ASGI

The layout (one hash per session, ``<prefix>{<id>}``, a field per data key), the Lua
script that makes every write conditional, expiry and indexes all live in the Rust core
(``docs/stores.md``, "Redis"), shared with the Node and Rust adapters: a session written
here is read and changed there. These classes only carry the core's command batches to
Redis, each as one pipeline (one round trip), and hand the raw replies back.

``pip install tenure[redis]`` installs redis-py.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Union

from . import _native
from ._time import to_ms

__all__ = ["RedisStore", "AsyncRedisStore", "DEFAULT_PREFIX"]

#: The key prefix every tenure implementation uses by default.
DEFAULT_PREFIX = "tenure:"

_Grace = Union[timedelta, int, float]


def _config(prefix: Any, grace: Any) -> tuple[str, int]:
    """Checks ``prefix`` and ``grace`` (the core's rules: ``RedisConfig::new``)."""
    if not isinstance(prefix, str):
        raise TypeError(f"prefix must be a str, not {type(prefix).__name__}")
    grace_ms = to_ms(grace, "grace")
    # The core validates the prefix (length, no braces, spaces or control characters).
    _native.Manager(idle_ms=None, absolute_ms=None, redis_prefix=prefix, redis_grace_ms=grace_ms)
    return prefix, grace_ms


def _module(name: str) -> Any:
    try:
        import redis
        import redis.asyncio
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError(f"tenure.redis.{name} needs redis-py: pip install 'tenure[redis]'") from e
    return redis


def _raw_pipeline(client: Any) -> Any:
    """A non-transactional pipeline that hands back Redis's replies as they are: redis-py's
    per-command reply conversions (HGETALL to a dict, ZRANGE WITHSCORES to float pairs...)
    are switched off for it, since the core parses the replies itself."""
    pipe = client.pipeline(transaction=False)
    pipe.response_callbacks = {}
    return pipe


class _Store:
    """What both stores share: the client, the options, what the manager reads."""

    _async = False

    def __init__(self, client: Any, prefix: str = DEFAULT_PREFIX, grace: _Grace = 0) -> None:
        redis = _module(type(self).__name__)
        wanted, other = (
            (redis.asyncio.Redis, "blocking redis.Redis client: use tenure.redis.RedisStore (with tenure.SessionManager)")
            if self._async
            else (redis.Redis, "redis.asyncio.Redis client: use tenure.redis.AsyncRedisStore (with tenure.aio.SessionManager)")
        )
        if not isinstance(client, wanted):
            mismatch = isinstance(client, redis.Redis if self._async else redis.asyncio.Redis)
            raise TypeError(
                f"{type(self).__name__} takes a {wanted.__module__}.{wanted.__qualname__} client, not "
                f"{type(client).__module__}.{type(client).__qualname__}"
                + (f"; for a {other}" if mismatch else "")
            )
        self.client = client
        self.prefix, self._grace_ms = _config(prefix, grace)
        #: How long Redis keeps a session past its deadline (for sweep's expired events).
        self.grace = timedelta(milliseconds=self._grace_ms)

    @property
    def _tenure_redis(self) -> tuple[str, int, bool]:
        """What the manager needs to know: prefix, grace in ms, whether asynchronous."""
        return self.prefix, self._grace_ms, self._async

    def __repr__(self) -> str:
        return f"<tenure.redis.{type(self).__name__} prefix={self.prefix!r}>"


class RedisStore(_Store):
    """Sessions in Redis through a blocking redis-py client (``redis.Redis``), for
    ``tenure.SessionManager`` and ``tenure.flask``.

    ``prefix``: the keys' prefix (default ``"tenure:"``; the same in every language to
    share sessions). ``grace``: how long Redis keeps a session past its deadline
    (``timedelta`` or seconds, default 0) so that ``sweep`` finds it and reports its
    expiry; tenure never serves it. Any other client object is refused (``TypeError``)."""

    def execute(self, batch: list[list[str]]) -> list[Any]:
        """Sends one batch of the core's commands as one pipeline; the replies in order,
        a failed command's exception in its place. A connection failure raises."""
        pipe = _raw_pipeline(self.client)
        for command in batch:
            pipe.execute_command(*command)
        replies: list[Any] = pipe.execute(raise_on_error=False)
        return replies


class AsyncRedisStore(_Store):
    """Sessions in Redis through an asyncio redis-py client (``redis.asyncio.Redis``),
    for ``tenure.aio.SessionManager`` and ``tenure.asgi``. Same options as
    ``RedisStore``."""

    _async = True

    async def execute(self, batch: list[list[str]]) -> list[Any]:
        """Like ``RedisStore.execute``, awaited."""
        pipe = _raw_pipeline(self.client)
        for command in batch:
            pipe.execute_command(*command)
        replies: list[Any] = await pipe.execute(raise_on_error=False)
        return replies
