import pytest

import tenure

SECRET = "test-secret-0123456789-0123456789-abcdef"


@pytest.fixture
def clock() -> tenure.ManualClock:
    return tenure.ManualClock(1_700_000_000)


@pytest.fixture
def manager(clock: tenure.ManualClock) -> tenure.SessionManager:
    return tenure.SessionManager(clock=clock)


# -- Redis: one redis-server per test session (its own port and folder, no persistence,
# stopped at the end); each test gets a key prefix of its own. Tests that stop Redis start
# a server of their own (redis_server.RedisServer).
import itertools
from collections.abc import Iterator

from redis_server import RedisServer

_prefixes = itertools.count()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    with RedisServer() as server:
        yield server


@pytest.fixture
def prefix() -> str:
    return f"t{next(_prefixes)}:"
