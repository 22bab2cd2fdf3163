"""Refuse to fetch from loopback, private, link-local or reserved addresses.

A feed URL is user input, and the bot runs next to things a stranger must not reach (cloud
metadata at 169.254.169.254, an admin panel on localhost). The check runs on the addresses a
host name resolves to, inside the resolver the connection then uses, so it covers every
redirect hop, a public-looking name that resolves to 127.0.0.1, and DNS rebinding between a
check and the connection. Literal addresses in URLs never reach a resolver and are checked by
``check_host``. A setting allows private addresses for tests and intranet feeds.
"""

from __future__ import annotations

import ipaddress
import socket

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver


class UnsafeAddressError(OSError):
    """The host is, or resolves to, an address briefbot will not fetch from."""


def address_problem(address: str) -> str | None:
    """What is wrong with fetching from ``address`` ("loopback", "private", ...), or None."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return "unparsable"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_multicast:
        return "multicast"
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_reserved:
        return "reserved"
    if ip.is_private:
        return "private"
    if not ip.is_global:
        return "reserved"
    return None


def _literal(host: str) -> str | None:
    """The address if ``host`` is an IP literal (with or without IPv6 brackets)."""
    bare = host.strip("[]")
    try:
        ipaddress.ip_address(bare.split("%", 1)[0])
    except ValueError:
        return None
    return bare


def check_host(host: str, allow_private: bool, allowed_hosts: frozenset[str]) -> None:
    """Refuse a literal address that is not public (names are checked when resolved)."""
    address = _literal(host)
    if address is None or allow_private or host.lower() in allowed_hosts:
        return
    problem = address_problem(address)
    if problem is not None:
        raise UnsafeAddressError(f"{host} is a {problem} address; briefbot does not fetch from it")


class SafeResolver(AbstractResolver):
    """Wraps a resolver and refuses names that resolve to any non-public address."""

    def __init__(
        self,
        inner: AbstractResolver | None = None,
        allow_private: bool = False,
        allowed_hosts: frozenset[str] = frozenset(),
    ) -> None:
        self.inner = inner if inner is not None else DefaultResolver()
        self.allow_private = allow_private
        self.allowed_hosts = allowed_hosts

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self.inner.resolve(host, port, family)
        if self.allow_private or host.lower().rstrip(".") in self.allowed_hosts:
            return results
        for result in results:
            problem = address_problem(result["host"])
            if problem is not None:
                # One bad address refuses the name: connecting "only to the good ones" would
                # still let a rebinding name pick which of its addresses we reach.
                raise UnsafeAddressError(
                    f"{host} resolves to {result['host']}, a {problem} address; "
                    "briefbot does not fetch from it"
                )
        return results

    async def close(self) -> None:
        await self.inner.close()


class StaticResolver(AbstractResolver):
    """Resolves names from a fixed table: tests, and hosts pinned to one address."""

    def __init__(self, table: dict[str, str]) -> None:
        self.table = {k.lower(): v for k, v in table.items()}

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        address = self.table.get(host.lower())
        if address is None:
            raise OSError(f"cannot resolve {host} (not in the resolver's table)")
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [
            {
                "hostname": host,
                "host": address,
                "port": port,
                "family": family,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
        ]

    async def close(self) -> None:
        return None
