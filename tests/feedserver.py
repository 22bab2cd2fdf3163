"""A real HTTP server on 127.0.0.1 for the feed tests: aiohttp in its own thread.

Each test starts one (``with FeedServer() as server``), changes its routes between polls,
and stops it on exit; slow answers end early when the server stops, so no test waits.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None
    last_modified: datetime | None = None
    delay: float = 0.0  # seconds before answering (ends early when the server stops)
    gzip: bool = False
    content_type: str = "application/rss+xml; charset=utf-8"


class FeedServer:
    """Serves ``routes`` (path -> Route or async handler) and records every request."""

    def __init__(self) -> None:
        self.routes: dict[str, Route | Handler] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._stopping: asyncio.Event | None = None
        self.port = 0

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def hits(self, path: str) -> list[dict[str, str]]:
        """Headers of each request to ``path``, in order."""
        return [headers for p, headers in self.requests if p == path]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.requests.append((request.path, dict(request.headers)))
        route = self.routes.get(request.path)
        if route is None:
            return web.Response(status=404, text="not found")
        if not isinstance(route, Route):
            return await route(request)
        if route.delay:
            assert self._stopping is not None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), route.delay)
        headers = {"Content-Type": route.content_type, **route.headers}
        if route.etag:
            headers["ETag"] = route.etag
        if route.last_modified:
            headers["Last-Modified"] = format_datetime(route.last_modified, usegmt=True)
        if route.etag and request.headers.get("If-None-Match") == route.etag:
            return web.Response(status=304, headers={"ETag": route.etag})
        if route.last_modified and request.headers.get("If-Modified-Since") == headers.get(
            "Last-Modified"
        ):
            return web.Response(status=304)
        body = route.body
        if route.gzip:
            body = gzip.compress(body)
            headers["Content-Encoding"] = "gzip"
        return web.Response(status=route.status, body=body, headers=headers)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._stopping = asyncio.Event()
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=2.0)
        self._loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        self._ready.set()
        self._loop.run_forever()
        self._loop.close()

    def __enter__(self) -> FeedServer:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the test feed server did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        async def stop() -> None:
            assert self._stopping is not None
            self._stopping.set()
            await self._runner.cleanup()

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


def rss(title: str, items: list[dict[str, str]], encoding: str = "utf-8") -> bytes:
    """An RSS 2.0 document; item values are inserted as they are (escape them yourself)."""
    parts = [f'<?xml version="1.0" encoding="{encoding}"?>', '<rss version="2.0"><channel>']
    parts.append(f"<title>{title}</title><link>http://news.example/</link>")
    for entry in items:
        parts.append("<item>")
        parts.extend(f"<{key}>{value}</{key}>" for key, value in entry.items())
        parts.append("</item>")
    parts.append("</channel></rss>")
    return "".join(parts).encode(encoding)


def item(n: int, **extra: str) -> dict[str, str]:
    """A distinct news item number ``n``; keyword arguments replace its fields."""
    base = {
        "title": f"Sanctions story number {n}",
        "link": f"http://news.example/story/{n}?utm_source=rss",
        "guid": f"story-{n}",
        "pubDate": f"Wed, {1 + n % 28:02d} Nov 2023 08:00:00 GMT",
        "description": (
            f"&lt;p&gt;Officials said designation {n} targets {n + 2} companies in "
            f"the shipping sector.&lt;/p&gt;&lt;p&gt;Measure {n} took effect on the "
            f"{n % 28 + 1}th, the ministry said.&lt;/p&gt;"
        ),
    }
    base.update(extra)
    return base


class HeldFeeds:
    """``count`` feeds on a FeedServer, ``items`` entries each, whose answers wait while
    ``gate`` is shut: a fetch in flight (claimed, requested, not answered). ``describe``
    gives entry ``k`` of feed ``number`` its text (else ``item``'s own)."""

    def __init__(
        self,
        server: FeedServer,
        count: int,
        name: str = "feed",
        items: int = 2,
        describe: Callable[[int, int], str] | None = None,
        deadline: float = 20.0,
    ) -> None:
        self.server = server
        self.name = name
        self.items = items
        self.describe = describe
        self.deadline = deadline
        self.gate = threading.Event()
        self.gate.set()
        self.paths = [f"/{name}/{n}.xml" for n in range(count)]
        for number, path in enumerate(self.paths):
            server.routes[path] = self._handler(number)

    def _handler(self, number: int) -> Handler:
        async def handle(request: web.Request) -> web.StreamResponse:
            await asyncio.get_running_loop().run_in_executor(None, self.gate.wait, self.deadline)
            entries = []
            for k in range(1, self.items + 1):
                extra = {"description": self.describe(number, k)} if self.describe else {}
                entries.append(
                    item(
                        100 * number + k,
                        title=f"{self.name.title()} {number} sanctions story {k}",
                        link=f"http://news.example/{self.name}{number}/story/{k}",
                        guid=f"{self.name}{number}-story-{k}",
                        **extra,
                    )
                )
            return web.Response(
                body=rss(f"Wire {number}", entries),
                content_type="application/rss+xml",
                charset="utf-8",
            )

        return handle
