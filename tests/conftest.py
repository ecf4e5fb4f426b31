"""Fixtures: a real eyelevel server (uvicorn on a loopback port) per test, on the chosen backend.

Tests talk to it over HTTP and WebSocket like any client. State is built by real actions: the
operator actions the CLI uses (companies, agents) and the public API (everything else).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests import backends
from tests.harness import Server, start_server

# the `browser` fixture (Debian's Chromium) and the browser tests' helpers
pytest_plugins = ["tests.browser_support"]


def pytest_configure(config: pytest.Config) -> None:
    reason = backends.check_services()
    if reason is None:
        return
    if backends.CI:
        raise pytest.UsageError(reason)
    config.stash[_SKIP] = reason


_SKIP = pytest.StashKey[str]()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = config.stash.get(_SKIP, None)
    if reason is not None:
        marker = pytest.mark.skip(reason=f"REQUIRE: {reason}")
        for item in items:
            item.add_marker(marker)


@pytest.fixture(scope="session")
def test_db(
    tmp_path_factory: pytest.TempPathFactory, worker_id: str
) -> Iterator[backends.TestDatabase]:
    db = backends.prepare(worker_id, tmp_path_factory.mktemp("db"))
    yield db
    backends.drop(db)


@pytest.fixture
async def db_url(test_db: backends.TestDatabase, tmp_path: Path) -> str:
    return await test_db.fresh(tmp_path)


@pytest.fixture
async def server(db_url: str, tmp_path: Path) -> AsyncIterator[Server]:
    async with start_server(db_url, tmp_path) as srv:
        yield srv
