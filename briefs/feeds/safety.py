"""Refuse to fetch from loopback, private, link-local or reserved addresses.

A feed URL is user input, and the bot runs next to things a stranger must not reach (cloud
metadata at 169.254.169.254, an admin panel on localhost). The rules are in docs/security.md;
three layers enforce them, each on what the HTTP client will really use:

1. ``connect_host`` reads a URL's host the way aiohttp does (yarl: IDNA and NFKC, so
   ``１２７．０．０．１`` is ``127.0.0.1``), and ``AddressPolicy.check_host`` refuses a literal
   address that is not public before anything is sent: a clear message, on every redirect hop.
2. ``SafeResolver`` checks every address a name resolves to, inside the resolver the
   connection then uses, so a public-looking name that resolves to 127.0.0.1 and DNS
   rebinding between a check and the connection are both refused.
3. ``AddressPolicy.socket_factory`` runs for every socket the connector opens and checks the
   peer address itself, so no spelling, literal or not, that the first two layers misread can
   reach a private peer.

A setting allows private addresses (tests, intranet feeds); ``allowed_hosts`` allows named
hosts, and only the addresses those names resolved to get past the socket check.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from urllib.parse import urlsplit

from aiohappyeyeballs import AddrInfoType
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from briefs.feeds.urls import connect_host

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# NAT64 (RFC 6052 well-known prefix, RFC 8215 local-use prefix): the IPv4 address is in the
# last 32 bits. On an IPv6-only network DNS64 answers these for every IPv4-only host, so the
# well-known prefix is judged by the address inside it; the local-use one is private.
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")
# IPv4-compatible IPv6 (::a.b.c.d, deprecated by RFC 4291 but still routed by some stacks).
IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")


# Labels inet_aton reads as numbers: decimal, octal (leading 0) or hex (0x).
_LEGACY_IPV4 = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)(?:\.(?:0x[0-9a-f]*|[0-9]+)){0,3}", re.IGNORECASE)


class UnsafeAddressError(OSError):
    """The host is, or resolves to, an address briefbot will not fetch from."""


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> tuple[str, ipaddress.IPv4Address] | None:
    """The IPv4 address an IPv6 address carries, with the mechanism's name."""
    if ip.ipv4_mapped is not None:
        return "IPv4-mapped", ip.ipv4_mapped
    if ip in NAT64:
        return "NAT64", ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return "6to4", ip.sixtofour
    if ip in IPV4_COMPATIBLE and int(ip) > 1:
        return "IPv4-compatible", ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _kind(ip: IPAddress) -> str | None:
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


def address_problem(address: str) -> str | None:
    """What is wrong with fetching from ``address`` ("loopback", "private", ...), or None.

    An IPv6 address that carries an IPv4 address (mapped, NAT64, 6to4, compatible) is judged
    by the IPv4 address it leads to; a zone id (``%eth0``) is ignored.
    """
    try:
        ip: IPAddress = ipaddress.ip_address(address.split("%", 1)[0].strip("[]"))
    except ValueError:
        return "unparsable"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in NAT64_LOCAL:
            return "private"
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            return _kind(embedded[1])
    return _kind(ip)


def describe(address: str) -> str | None:
    """``address_problem`` as words for a message: "a loopback address", or for an address
    that carries another, "a NAT64 address of 127.0.0.1, a loopback address"."""
    problem = address_problem(address)
    if problem is None:
        return None
    article = "an" if problem[0] in "aeiou" else "a"
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0].strip("[]"))
    except ValueError:
        return f"not an address briefbot can check ({problem})"
    if isinstance(ip, ipaddress.IPv6Address) and ip not in NAT64_LOCAL:
        embedded = _embedded_ipv4(ip)
        if embedded is not None and embedded[0] != "IPv4-mapped":
            mechanism, inner = embedded
            return f"a {mechanism} address of {inner}, {article} {problem} address"
    return f"{article} {problem} address"


def literal_address(host: str) -> str | None:
    """The address if ``host`` is an IP literal (with or without IPv6 brackets).

    A dotted or plain number in the legacy forms a resolver still accepts (``127.1``,
    ``2130706433``, ``0x7f.1``, ``0177.0.0.1``, a trailing dot) is read as the address the C
    library would make of it, so it is judged here, not left to a resolver.
    """
    bare = host.strip("[]")
    try:
        ipaddress.ip_address(bare.split("%", 1)[0])
    except ValueError:
        pass
    else:
        return bare
    numeric = bare.rstrip(".") if bare.count(".") <= 4 else ""
    if numeric and _LEGACY_IPV4.fullmatch(numeric):
        try:
            return socket.inet_ntoa(socket.inet_aton(numeric))
        except OSError:
            return None
    return None


class AddressPolicy:
    """Which peers a fetcher may connect to: one object shared by all three layers.

    ``permit`` records the addresses that allowed host names resolved to, so the socket check
    lets those through and nothing else that is private.
    """

    def __init__(self, allow_private: bool = False, allowed_hosts: frozenset[str] = frozenset()):
        self.allow_private = allow_private
        self.allowed_hosts = frozenset(h.lower().rstrip(".") for h in allowed_hosts)
        self._permitted: set[str] = set()

    def allowed(self, host: str) -> bool:
        """Whether ``host`` (as the client reads it) is named in ``allowed_hosts``."""
        return self.allow_private or host.lower().rstrip(".").strip("[]") in self.allowed_hosts

    def permit(self, address: str) -> None:
        self._permitted.add(_plain(address))

    def check_host(self, host: str, written: str | None = None) -> None:
        """Refuse a literal address that is not public (names are checked when resolved).

        ``host`` is the client's reading (``connect_host``); ``written`` the host as the URL
        spelt it, shown too when it differs, so the user sees why it was refused.
        """
        shown = host if not written or written == host else f"{written} (read as {host})"
        address = literal_address(host)
        if address is None:
            name = host.rstrip(".")
            if (name == "localhost" or name.endswith(".localhost")) and not self.allowed(host):
                # RFC 6761: always loopback, whatever a resolver (or its absence) says.
                raise UnsafeAddressError(
                    f"{shown} is a loopback name; briefbot does not fetch from it"
                )
            return
        if self.allowed(host):
            self.permit(address)
            return
        if address != host.strip("[]") and "(read as" not in shown:
            shown = f"{shown} (read as {address})"
        problem = describe(address)
        if problem is not None:
            raise UnsafeAddressError(f"{shown} is {problem}; briefbot does not fetch from it")

    def check_url(self, url: str) -> str:
        """``connect_host(url)``, refused (UnsafeAddressError) when it is a bad literal."""
        host = connect_host(url)
        try:
            written = urlsplit(url).hostname
        except ValueError:
            written = None
        self.check_host(host, written)
        return host

    def check_peer(self, address: str) -> None:
        """The last word, on the address a socket is about to connect to."""
        if self.allow_private or _plain(address) in self._permitted:
            return
        problem = describe(address)
        if problem is not None:
            raise UnsafeAddressError(f"{address} is {problem}; briefbot does not connect to it")

    def socket_factory(self, addr_info: AddrInfoType) -> socket.socket:
        """aiohttp's ``socket_factory``: check the peer, then make the socket as it would."""
        family, type_, proto, _, sockaddr = addr_info
        self.check_peer(str(sockaddr[0]))
        return socket.socket(family=family, type=type_, proto=proto)


def _plain(address: str) -> str:
    """One spelling per address, to compare a resolved address with a socket's peer."""
    try:
        return str(ipaddress.ip_address(address.split("%", 1)[0].strip("[]")))
    except ValueError:
        return address


class SafeResolver(AbstractResolver):
    """Wraps a resolver and refuses names that resolve to any non-public address."""

    def __init__(self, inner: AbstractResolver | None = None, policy: AddressPolicy | None = None):
        self.inner = inner if inner is not None else DefaultResolver()
        self.policy = policy if policy is not None else AddressPolicy()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self.inner.resolve(host, port, family)
        if self.policy.allowed(host):
            for result in results:
                self.policy.permit(result["host"])
            return results
        for result in results:
            problem = describe(result["host"])
            if problem is not None:
                # One bad address refuses the name: connecting "only to the good ones" would
                # still let a rebinding name pick which of its addresses we reach.
                raise UnsafeAddressError(
                    f"{host} resolves to {result['host']}, {problem}; "
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
