"""``briefbot run``: connect the bot to Discord until SIGINT or SIGTERM.

The token comes only from the environment variable DISCORD_TOKEN and is never logged or
printed. A missing or rejected token is one clear line and exit status 2.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Mapping
from typing import Any, TextIO

import discord

from bot.app import BriefBot
from bot.services.shared import Services

log = logging.getLogger("briefbot.discord")
TOKEN_VARIABLE = "DISCORD_TOKEN"


def run_bot(services: Services, env: Mapping[str, str], err: TextIO, **options: Any) -> int:
    """Run the bot on ``services`` until a signal or a fatal error; the exit status."""
    token = env.get(TOKEN_VARIABLE, "").strip()
    if not token:
        print(
            f"briefbot: error: set the environment variable {TOKEN_VARIABLE} to the bot's token "
            "(Discord developer portal > your application > Bot > Reset Token)",
            file=err,
        )
        return 2
    try:
        return asyncio.run(_run(services, token, err, **options))
    except discord.LoginFailure:
        print(
            f"briefbot: error: Discord rejected the token in {TOKEN_VARIABLE}; "
            "copy it again from the developer portal (Bot > Reset Token)",
            file=err,
        )
        return 2
    except discord.PrivilegedIntentsRequired:
        print("briefbot: error: Discord refused the gateway intents the bot asked for", file=err)
        return 2


async def _run(services: Services, token: str, err: TextIO, **options: Any) -> int:
    bot = BriefBot(services, **options)
    loop = asyncio.get_running_loop()
    stopping: list[str] = []
    closing: list[asyncio.Task[None]] = []  # a reference, so the task is not collected

    def stop(name: str) -> None:
        if not stopping:
            stopping.append(name)
            log.info("%s: closing the bot", name)
            closing.append(loop.create_task(bot.close()))

    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop, sig.name)
    try:
        async with bot:
            await bot.start(token, reconnect=True)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(sig)
        await loop.run_in_executor(None, services.close)
    if stopping:
        print(f"briefbot: stopped ({stopping[0]})", file=err)
    return 0
