"""Property-based tests of the private-address guard (Hypothesis, fixed budget in conftest).

Spellings are generated the way an attacker would write them: any non-public IPv4 address,
its digits swapped for Unicode digits that NFKC folds to ASCII, its dots for the full stops
IDNA treats as dots, legacy numeric forms, IPv6 wrappings (mapped, NAT64, 6to4, compatible),
userinfo and fragment tricks. Nothing here opens a socket: the properties are on the pure
checks and on the socket factory's verdict, which tests/test_url_guard.py ties to real
connections. Every failure Hypothesis finds becomes a row in that file's tables.
"""

from __future__ import annotations

import ipaddress

import pytest
from aiohttp.helpers import is_ip_address
from hypothesis import example, given
from hypothesis import strategies as st

from briefs.errors import InputError
from briefs.feeds.safety import AddressPolicy, UnsafeAddressError, describe, literal_address
from briefs.feeds.urls import check_feed_url, connect_host

NON_PUBLIC_V4 = [
    "127.0.0.0/8",
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "169.254.0.0/16",
    "0.0.0.0/8",
    "100.64.0.0/10",
    "198.18.0.0/15",
    "240.0.0.0/4",
]
NON_PUBLIC_V6 = ["::1/128", "fc00::/7", "fe80::/10", "::/128", "64:ff9b:1::/48"]

# Characters NFKC (as IDNA applies it) folds to each ASCII digit; and to a dot.
_DIGIT_FORMS = [
    (0xFF10, range(10)),  # full-width
    (0x1D7CE, range(10)),  # mathematical bold
    (0x1D7D8, range(10)),  # double-struck
    (0x1D7E2, range(10)),  # sans-serif
    (0x1D7F6, range(10)),  # monospace
]
DOTS = [".", "\u3002", "\uff0e", "\uff61", "\ufe52"]


def _digit_variants(d: int) -> list[str]:
    forms = [str(d)] + [chr(base + d) for base, _ in _DIGIT_FORMS]
    forms.append(chr(0x24EA) if d == 0 else chr(0x2460 + d - 1))  # circled
    return forms


@st.composite
def unicode_dotted(draw: st.DrawFn, address: ipaddress.IPv4Address) -> str:
    """The dotted quad with each digit and dot drawn from its NFKC equivalents."""
    parts = []
    for octet in str(address).split("."):
        parts.append("".join(draw(st.sampled_from(_digit_variants(int(c)))) for c in octet))
    out = parts[0]
    for part in parts[1:]:
        out += draw(st.sampled_from(DOTS)) + part
    return out


@st.composite
def legacy_numeric(draw: st.DrawFn, address: ipaddress.IPv4Address) -> str:
    """inet_aton's other readings: one number, or dotted parts in decimal, octal or hex."""
    value = int(address)
    octets = [int(o) for o in str(address).split(".")]
    form = draw(st.sampled_from(["decimal", "hex", "octets", "short"]))
    if form == "decimal":
        return str(value)
    if form == "hex":
        return hex(value)

    def one(n: int) -> str:
        # Zero-padding means octal to inet_aton ("016" is 14), so only digits below 8 pad.
        style = draw(st.sampled_from(["dec", "oct", "hex", "pad"]))
        pad = f"{n:03d}" if n < 8 else str(n)
        return {"dec": str(n), "oct": "0" + oct(n)[2:], "hex": hex(n), "pad": pad}[style]

    if form == "octets":
        return ".".join(one(n) for n in octets)
    return f"{one(octets[0])}.{value & 0xFFFFFF}"  # a.b as inet_aton reads it


@st.composite
def ipv6_wrapping(draw: st.DrawFn, address: ipaddress.IPv4Address) -> str:
    packed = int(address)
    kind = draw(st.sampled_from(["mapped", "mapped-hex", "nat64", "6to4", "compatible"]))
    if kind == "mapped":
        inner = f"::ffff:{address}"
    elif kind == "mapped-hex":
        inner = f"::ffff:{packed >> 16:x}:{packed & 0xFFFF:x}"
    elif kind == "nat64":
        inner = f"64:ff9b::{address}"
    elif kind == "6to4":
        inner = f"2002:{packed >> 16:x}:{packed & 0xFFFF:x}::{draw(st.integers(0, 0xFFFF)):x}"
    else:
        inner = f"::{address}"
    return f"[{inner}]"


@st.composite
def hostile_url(draw: st.DrawFn) -> str:
    network = draw(st.sampled_from(NON_PUBLIC_V4))
    address = draw(st.ip_addresses(v=4, network=network))
    assert isinstance(address, ipaddress.IPv4Address)
    host = draw(st.one_of(unicode_dotted(address), legacy_numeric(address), ipv6_wrapping(address)))
    if not host.startswith("[") and draw(st.booleans()):
        host += draw(st.sampled_from(DOTS))  # a trailing dot
    userinfo = draw(st.sampled_from(["", "user@", "news.example.com@", "a:b@"]))
    port = draw(st.sampled_from(["", ":80", ":8080"]))
    tail = draw(st.sampled_from(["/feed.xml", "#@news.example.com/", "?@news.example.com", "/"]))
    scheme = draw(st.sampled_from(["http", "https", "HTTP"]))
    return f"{scheme}://{userinfo}{host}{port}{tail}"


def _verdict(url: str) -> str | None:
    """None if the guard lets ``url`` through to the resolver; else why it was refused."""
    try:
        AddressPolicy().check_url(check_feed_url(url))
    except (InputError, UnsafeAddressError) as exc:
        return str(exc)
    return None


@given(hostile_url())
@example("http://\uff11\uff12\uff17.\uff10.\uff10.\uff11:8765/feed.xml")
@example("http://127\u30020\u30020\u30021:8765/")
@example("http://[64:ff9b::7f00:1]/")
@example("http://[2002:7f00:1::]/")
def test_no_spelling_of_a_private_ipv4_address_gets_through(url: str) -> None:
    assert _verdict(url) is not None, f"{url!r} was let through as {connect_host(url)!r}"


@given(st.sampled_from(NON_PUBLIC_V6).flatmap(lambda n: st.ip_addresses(v=6, network=n)))
def test_no_non_public_ipv6_literal_gets_through(address: ipaddress.IPv6Address) -> None:
    assert _verdict(f"http://[{address}]/") is not None


@given(st.text(max_size=60))
@example("http://xn--/")
@example("4300000000")  # all digits, no address: found by the explore profile
@example("http://[::1%zz]/")
@example("http://\u0663\u0662\u0661.0.0.1/")
def test_any_text_is_a_url_or_one_input_error(text: str) -> None:
    """Whatever is typed, the checks answer a URL or raise their own errors, nothing else;
    and what they let through is no address the HTTP client would connect to unchecked."""
    for typed in (text, f"http://{text}/feed.xml", f"https://{text}"):
        if _verdict(typed) is not None:
            continue
        url = check_feed_url(typed)  # stripped, as the fetcher then uses it
        host = connect_host(url)
        literal = literal_address(host)
        if literal is not None:
            assert describe(literal) is None, (url, host)
        if is_ip_address(host):  # aiohttp connects to these without asking a resolver
            assert literal is not None and describe(literal) is None, (url, host)


@given(st.ip_addresses())
def test_the_socket_check_refuses_exactly_the_non_public_addresses(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address,
) -> None:
    policy = AddressPolicy()
    bad = describe(str(address)) is not None
    if bad:
        with pytest.raises(UnsafeAddressError):
            policy.check_peer(str(address))
    else:
        policy.check_peer(str(address))
    AddressPolicy(allow_private=True).check_peer(str(address))  # the setting lets all through


@given(st.ip_addresses(v=4, network="127.0.0.0/8"), st.ip_addresses(v=4, network="10.0.0.0/8"))
def test_an_allowed_name_admits_its_own_addresses_only(
    own: ipaddress.IPv4Address, other: ipaddress.IPv4Address
) -> None:
    policy = AddressPolicy(allowed_hosts=frozenset({"feeds.intranet"}))
    policy.permit(str(own))  # what the resolver does for an allowed name's answer
    policy.check_peer(str(own))
    with pytest.raises(UnsafeAddressError):
        policy.check_peer(str(other))
