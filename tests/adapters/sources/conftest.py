import pytest

from tests.core.test_ingest import NOW, FixedClock


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)
