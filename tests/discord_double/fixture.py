"""The ``discord_double`` pytest fixture (registered in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

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
