"""Fetch feeds politely and safely with aiohttp.

Politeness: conditional GET (ETag / Last-Modified, so an unchanged feed costs a 304), gzip,
a User-Agent naming briefbot and a contact, a per-host limit on requests at once, and the
server's Retry-After and Cache-Control passed on to the scheduler. Safety: http and https
only, every redirect hop checked like the first URL (see ``safety``), caps on time, size and
redirects.

Every outcome, good or bad, is a ``FetchResult``: nothing raises out of ``Fetcher.fetch``, so
one feed's failure is data the poller stores and shows, never the end of a polling round.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from urllib.parse import urljoin

import aiohttp
from aiohttp.abc import AbstractResolver

from briefs import __version__
from briefs.clock import Clock, system_clock
from briefs.errors import InputError
from briefs.feeds.safety import AddressPolicy, SafeResolver, UnsafeAddressError
from briefs.feeds.urls import check_feed_url
from briefs.settings import FeedSettings

log = logging.getLogger(__name__)

REDIRECTS = frozenset({301, 302, 303, 307, 308})
PERMANENT = frozenset({301, 308})
FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.8, */*;q=0.1"
)
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.1"
_MAX_AGE = re.compile(r"(?:^|[,\s])max-age\s*=\s*\"?(\d+)", re.IGNORECASE)
_CHUNK = 65536


@dataclass(frozen=True)
class FetchSettings:
    contact: str = ""
    connect_timeout: float = 10.0
    total_timeout: float = 30.0
    max_bytes: int = 5_000_000
    max_redirects: int = 5
    per_host: int = 2
    allow_private: bool = False
    allowed_hosts: frozenset[str] = frozenset()

    @classmethod
    def from_settings(cls, feeds: FeedSettings) -> FetchSettings:
        return cls(
            contact=feeds.contact,
            connect_timeout=feeds.connect_timeout,
            total_timeout=feeds.total_timeout,
            max_bytes=feeds.max_bytes,
            max_redirects=feeds.max_redirects,
            per_host=feeds.per_host_concurrency,
            allow_private=feeds.allow_private_addresses,
            allowed_hosts=frozenset(feeds.allowed_hosts),
        )

    @property
    def user_agent(self) -> str:
        contact = f"; +{self.contact}" if self.contact else ""
        return f"briefbot/{__version__} (feed reader{contact})"


@dataclass(frozen=True)
class FetchResult:
    """One fetch: the answer, or what went wrong (``error_type`` and a one-line ``error``)."""

    url: str
    final_url: str
    status: int | None = None
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    error_type: str | None = None
    error: str | None = None
    retry_after: float | None = None
    max_age: float | None = None
    # Where every hop was a permanent redirect (301/308): the feed's new address.
    moved_to: str | None = None

    @property
    def ok(self) -> bool:
        return self.error_type is None and self.body is not None

    @property
    def not_modified(self) -> bool:
        return self.error_type is None and self.status == 304

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    @property
    def last_modified(self) -> str | None:
        return self.headers.get("last-modified")

    def reason(self) -> str:
        """One line for a refusal: what went wrong, or the HTTP status."""
        return self.error or f"HTTP {self.status}"


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """Retry-After in seconds: a number of seconds, or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def max_age_seconds(cache_control: str | None) -> float | None:
    """``max-age`` of a Cache-Control header, in seconds."""
    if not cache_control:
        return None
    match = _MAX_AGE.search(cache_control)
    return float(match.group(1)) if match else None


class Fetcher:
    """One aiohttp session for a polling round; use as an async context manager.

    ``resolver`` answers DNS (tests give a fixed table); whatever it answers is checked.
    """

    def __init__(
        self,
        settings: FetchSettings,
        resolver: AbstractResolver | None = None,
        clock: Clock = system_clock,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self._policy = AddressPolicy(settings.allow_private, settings.allowed_hosts)
        self._resolver = SafeResolver(resolver, self._policy)
        self._session: aiohttp.ClientSession | None = None
        self._hosts: dict[str, asyncio.Semaphore] = {}

    async def __aenter__(self) -> Fetcher:
        connector = aiohttp.TCPConnector(
            resolver=self._resolver,
            # Every socket's peer is checked, literal hosts included (briefs/feeds/safety.py).
            socket_factory=self._policy.socket_factory,
            limit=64,
            ttl_dns_cache=60,
        )
        timeout = aiohttp.ClientTimeout(
            total=self.settings.total_timeout,
            connect=self.settings.connect_timeout,
            sock_connect=self.settings.connect_timeout,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=timeout,
            headers={"User-Agent": self.settings.user_agent},
            cookie_jar=aiohttp.DummyCookieJar(),  # no feed sets state for another
            trust_env=False,  # an environment proxy would bypass the address checks
        )
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _slot(self, host: str) -> asyncio.Semaphore:
        slot = self._hosts.get(host)
        if slot is None:
            slot = self._hosts[host] = asyncio.Semaphore(self.settings.per_host)
        return slot

    async def fetch(
        self,
        url: str,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: str = FEED_ACCEPT,
    ) -> FetchResult:
        """GET ``url`` (conditionally), following checked redirects; never raises."""
        try:
            return await self._fetch(url, etag, last_modified, accept)
        except InputError as exc:
            return FetchResult(url, url, error_type="bad_url", error=str(exc))
        except UnsafeAddressError as exc:
            return FetchResult(url, url, error_type="unsafe_address", error=str(exc))
        except aiohttp.ConnectionTimeoutError:
            error = f"could not connect within {self.settings.connect_timeout:g} s"
            return FetchResult(url, url, error_type="timeout", error=error)
        except TimeoutError:
            error = f"no complete answer within {self.settings.total_timeout:g} s"
            return FetchResult(url, url, error_type="timeout", error=error)
        except aiohttp.ClientError as exc:
            unsafe = _unsafe_cause(exc)
            if unsafe is not None:
                return FetchResult(url, url, error_type="unsafe_address", error=str(unsafe))
            return FetchResult(url, url, error_type="connection", error=_describe(exc))
        except (OSError, ValueError, UnicodeError) as exc:
            return FetchResult(url, url, error_type="connection", error=_describe(exc))
        except Exception as exc:  # the boundary: a fetch never takes the round down
            log.exception("fetching %s failed unexpectedly", url)
            return FetchResult(url, url, error_type="internal", error=_describe(exc))

    async def _fetch(
        self, url: str, etag: str | None, last_modified: str | None, accept: str
    ) -> FetchResult:
        if self._session is None:
            raise RuntimeError("use Fetcher as an async context manager")
        headers = {"Accept": accept}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        current = check_feed_url(url)
        seen = {current}
        permanent = True
        loop = asyncio.get_running_loop()
        deadline: float | None = None
        for _hop in range(self.settings.max_redirects + 1):
            # The host as aiohttp will read it (IDNA, NFKC), judged before anything is sent.
            host = self._policy.check_url(current)
            async with self._slot(host):
                # One deadline for the whole chain, started once the first slot is ours.
                deadline = deadline or loop.time() + self.settings.total_timeout
                async with (
                    asyncio.timeout_at(deadline),
                    self._session.get(current, headers=headers, allow_redirects=False) as resp,
                ):
                    lowered = {k.lower(): v for k, v in resp.headers.items()}
                    base = FetchResult(
                        url=url,
                        final_url=current,
                        status=resp.status,
                        headers=lowered,
                        retry_after=retry_after_seconds(lowered.get("retry-after"), self.clock()),
                        max_age=max_age_seconds(lowered.get("cache-control")),
                    )
                    if resp.status in REDIRECTS and lowered.get("location"):
                        permanent = permanent and resp.status in PERMANENT
                        target = check_feed_url(urljoin(current, lowered["location"]))
                        if target in seen:
                            error = f"redirect loop: {current} leads back to {target}"
                            return replace(base, error_type="redirect_loop", error=error)
                        seen.add(target)
                        current = target
                        continue
                    if resp.status == 304:
                        return self._moved(base, url, permanent)
                    if not 200 <= resp.status < 300 or resp.status == 204:
                        reason = f"HTTP {resp.status} {resp.reason or ''}".strip()
                        return replace(base, error_type="http", error=reason)
                    declared = resp.content_length
                    if declared is not None and declared > self.settings.max_bytes:
                        return replace(base, error_type="too_large", error=self._too_large())
                    body = bytearray()
                    async for chunk in resp.content.iter_chunked(_CHUNK):
                        body += chunk
                        if len(body) > self.settings.max_bytes:
                            return replace(base, error_type="too_large", error=self._too_large())
                    return self._moved(replace(base, body=bytes(body)), url, permanent)
        error = f"more than {self.settings.max_redirects} redirects (last: {current})"
        return FetchResult(url, current, error_type="too_many_redirects", error=error)

    @staticmethod
    def _moved(result: FetchResult, url: str, permanent: bool) -> FetchResult:
        if permanent and result.final_url != url:
            return replace(result, moved_to=result.final_url)
        return result

    def _too_large(self) -> str:
        return f"the response is larger than the {self.settings.max_bytes:,}-byte limit"


def _unsafe_cause(exc: BaseException) -> UnsafeAddressError | None:
    """The UnsafeAddressError behind an aiohttp connection error, if that is what it was."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, UnsafeAddressError):
            return current
        nested = getattr(current, "os_error", None)
        current = nested if isinstance(nested, BaseException) else current.__cause__
    return None


def _describe(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
