"""Feed and article URLs: which ones may be fetched, and one canonical form per article.

The canonical form is what deduplication keys on, so the same article reached through a
newsletter link, a social share and the feed itself is one document.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from yarl import URL

from briefs.errors import InputError

MAX_URL = 2048
# A host name as the HTTP client will look it up: ASCII labels (IDNA already applied),
# underscores tolerated as real hosts use them, an optional trailing dot.
_HOST_NAME = re.compile(
    r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*\.?"
)

# Query parameters that track the reader, not the resource (utm_* are matched by prefix).
TRACKING = frozenset(
    {"fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "mc_cid", "mc_eid", "igshid",
     "yclid", "_ga", "_gl", "_hsenc", "_hsmi", "mkt_tok", "ref", "ref_src", "ref_url", "cmpid",
     "ncid", "ocid", "spm", "share", "s_cid", "soc_src", "soc_trk", "smid", "sr_share",
     "at_medium", "at_campaign", "oly_enc_id", "oly_anon_id", "vero_id", "wt.mc_id"}
)  # fmt: skip
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "itm_")


def check_feed_url(url: str) -> str:
    """The URL stripped, if the fetcher may use it: http or https, with a host.

    Raises InputError naming the URL otherwise (file:, ftp:, javascript: and the like).
    """
    url = url.strip()
    if len(url) > MAX_URL:
        raise InputError(f"{url[:80]}…: the URL is longer than {MAX_URL} characters")
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a port out of range
    except ValueError as exc:
        raise InputError(f"{url!r}: not a valid URL ({exc})") from None
    if parts.scheme.lower() not in {"http", "https"}:
        shown = f"{parts.scheme}:" if parts.scheme else "no scheme"
        raise InputError(f"{url!r}: only http and https URLs can be fetched (this one has {shown})")
    if not host:
        raise InputError(f"{url!r}: the URL has no host")
    try:
        client_host = connect_host(url)
    except ValueError as exc:  # UnicodeError too: a label IDNA refuses
        raise InputError(f"{url!r}: the host is not a valid host name ({exc})") from None
    if not _valid_host(client_host):
        raise InputError(f"{url!r}: {client_host!r} is not a valid host name")
    return url


def connect_host(url: str) -> str:
    """The host the HTTP client will connect to for ``url``, after its normalisation.

    aiohttp parses URLs with yarl, which applies IDNA (with NFKC) to the host: full-width and
    other Unicode digits, ideographic full stops and compatibility letters all become ASCII
    (``１２７。０。０。１`` is ``127.0.0.1``; ``ｌｏｃａｌｈｏｓｔ`` is ``localhost``). Judging
    the host read any other way would judge another address than the one connected to
    (docs/security.md).
    Raises ValueError (UnicodeError is one) for a host yarl refuses.
    """
    return (URL(url).raw_host or "").lower()


def _valid_host(host: str) -> bool:
    """An IP literal (IPv6 with an optional zone id) or a host name of ASCII labels: anything
    else (percent-escapes, spaces, leftover Unicode) no resolver should be asked about."""
    if ":" in host:
        try:
            ipaddress.IPv6Address(host.split("%", 1)[0])
        except ValueError:
            return False
        return True
    if host.replace(".", "").isdigit():
        # aiohttp connects to an all-digit host without a resolver: it must be an address
        # (in any form inet_aton reads), not a number out of range such as 4300000000.
        try:
            socket.inet_aton(host.rstrip("."))
        except OSError:
            return False
    return len(host) <= 253 and _HOST_NAME.fullmatch(host) is not None


def is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING or lowered.startswith(TRACKING_PREFIXES)


@lru_cache(maxsize=8192)  # one entry's URL is asked for by its key, hash and article
def canonical_url(url: str) -> str:
    """One spelling per resource: lower-case scheme and host, no default port, no fragment,
    no tracking parameters, the remaining query sorted."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    try:
        port = parts.port
    except ValueError:
        port = None
    if ":" in host:
        host = f"[{host}]"
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        host = f"{host}:{port}"
    query = sorted(
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not is_tracking(k)
    )
    return urlunsplit((scheme, host, parts.path or "/", urlencode(query), ""))
