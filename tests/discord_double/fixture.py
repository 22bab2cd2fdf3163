"""The ``discord_double`` pytest fixture (registered in tests/conftest.py), and `threaded_double`
for code under test that runs its own event loop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

import pytest_asyncio

from tests.discord_double.server import DiscordDouble, patched_discord


@pytest_asyncio.fixture
async def discord_double() -> AsyncIterator[DiscordDouble]:
    """A started double on the test's event loop, with discord.py's REST base and gateway
    pointed at it for the test and restored afterwards."""
    double = DiscordDouble()
    await double.start()
    try:
        with patched_discord(double):
            yield double
    finally:
        await double.stop()


@contextmanager
def threaded_double() -> Iterator[DiscordDouble]:
    """A Discord API double on its own event loop thread, with discord.py pointed at it: for
    code that runs its own loop (``briefbot digest --webhook``, ``schedule run``). Read its
    records after the code under test returned."""
    loop = asyncio.new_event_loop()
    double = DiscordDouble()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        asyncio.run_coroutine_threadsafe(double.start(), loop).result(10)
        with patched_discord(double):
            yield double
    finally:
        asyncio.run_coroutine_threadsafe(double.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
