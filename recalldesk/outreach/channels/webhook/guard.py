"""Refuse webhook URLs that could reach our own network instead of the consignee's.

A webhook URL is typed in by someone outside the company, and the worker that posts to it
sits inside our network, next to the database, the cloud metadata service and admin
ports. Without this check a URL such as ``https://169.254.169.254/`` or a name that
resolves to ``10.0.0.5`` turns the outreach worker into a proxy into our network (SSRF).

The check resolves the host once and returns the addresses it approved; the transport
then connects to one of those addresses and never resolves the name again. Checking a
name and letting the HTTP library resolve it a second time would let a hostile DNS
server answer "public" to the check and "private" to the connection (DNS rebinding).
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Cloud metadata services hand out credentials to anyone who can reach them; named
# separately so the refusal says what it was protecting.
METADATA_ADDRESSES = frozenset(
    {
        ipaddress.ip_address("169.254.169.254"),  # AWS, GCP, Azure, OpenStack
        ipaddress.ip_address("fd00:ec2::254"),  # AWS over IPv6
    }
)
SHARED_NETWORK = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT, RFC 6598
UNIQUE_LOCAL_NETWORK = ipaddress.ip_network("fc00::/7")
NAT64_NETWORK = ipaddress.ip_network("64:ff9b::/96")


def refusal_reason(address: IPAddress) -> str | None:
    """Why ``address`` must not be contacted, or None when it is a public address."""
    if address.version == 6:
        # An IPv6 address can carry an IPv4 one (::ffff:10.0.0.1, 6to4, NAT64) that the
        # network stack may reach as that IPv4 address: judge the inner address.
        assert isinstance(address, ipaddress.IPv6Address)
        inner: ipaddress.IPv4Address | None = address.ipv4_mapped or address.sixtofour
        if inner is None and address in NAT64_NETWORK:
            inner = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if inner is not None:
            reason = refusal_reason(inner)
            if reason:
                return f"{reason} inside the IPv6 address {address}"
    if address in METADATA_ADDRESSES:
        return f"the cloud metadata address {address}"
    if address.is_unspecified:
        return f"the unspecified address {address}"
    if address.is_loopback:
        return f"the loopback address {address}"
    if address.is_link_local:
        return f"the link-local address {address}"
    if address.is_multicast:
        return f"the multicast address {address}"
    if address in SHARED_NETWORK:
        return f"the shared (carrier-grade NAT) address {address}"
    if address in UNIQUE_LOCAL_NETWORK:
        return f"the unique-local address {address}"
    if address.is_private:
        return f"the private address {address}"
    if address.is_reserved:
        return f"the reserved address {address}"
    # The positive test: anything the registries do not call globally reachable is
    # refused, including ranges added after this was written.
    if not address.is_global:
        return f"the non-public address {address}"
    return None


def check_webhook_url(url: str) -> list[str]:
    """Return the addresses ``url`` may be contacted at, or raise ``ValueError`` saying why not.

    Every address the name resolves to must be public: if one is not, the name is refused
    rather than filtered, since a name that mixes public and private answers is either
    misconfigured or an attack.
    """
    parts = urlsplit(url.strip())
    if parts.scheme.lower() != "https":
        # Always https, also in development: the notice and its signed link travel in the
        # body, and a local receiver would be refused below anyway.
        raise ValueError(f"Webhook URL {url!r} must use https.")
    if parts.username is not None or parts.password is not None:
        raise ValueError(
            f"Webhook URL {url!r} must not contain a user name or password; "
            "the receiver checks the signature header instead."
        )
    host = parts.hostname
    if not host:
        raise ValueError(f"Webhook URL {url!r} has no host.")
    try:
        port = parts.port or 443
    except ValueError:
        raise ValueError(f"Webhook URL {url!r} has an invalid port.") from None

    try:
        literal: IPAddress | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        reason = refusal_reason(literal)
        if reason:
            raise ValueError(f"Webhook URL {url!r} is refused: it points to {reason}.")
        return [str(literal)]

    # "localhost" and its subdomains are loopback by definition (RFC 6761), whatever the
    # resolver of the day answers.
    if host.rstrip(".") == "localhost" or host.rstrip(".").endswith(".localhost"):
        raise ValueError(f"Webhook URL {url!r} is refused: {host} is this machine.")

    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise ValueError(
            f"Webhook URL {url!r} is refused: {host} does not resolve ({error})."
        ) from error

    addresses: list[str] = []
    for _family, _type, _proto, _canonname, sockaddr in answers:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        reason = refusal_reason(address)
        if reason:
            raise ValueError(f"Webhook URL {url!r} is refused: {host} resolves to {reason}.")
        if str(address) not in addresses:
            addresses.append(str(address))
    if not addresses:
        raise ValueError(f"Webhook URL {url!r} is refused: {host} has no addresses.")
    return addresses
