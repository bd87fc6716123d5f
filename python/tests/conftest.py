import pytest

import tenure

SECRET = "test-secret-0123456789-0123456789-abcdef"


@pytest.fixture
def clock() -> tenure.ManualClock:
    return tenure.ManualClock(1_700_000_000)


@pytest.fixture
def manager(clock: tenure.ManualClock) -> tenure.SessionManager:
    return tenure.SessionManager(clock=clock)
