"""The client's address: what the audit trail, the login lockout (django-axes) and the survey rate limit use.

Behind a reverse proxy every request comes from the proxy, so the client's own address is only in
``X-Forwarded-For`` — a header anyone can send. It is believed only when the request comes from a proxy
listed in ``TRUSTED_PROXIES`` (addresses or networks, settings.py), and then read from the right: each
trusted proxy appends the address it received the request from, so the right-most address that is not
a trusted proxy is the client (anything to its left was written by the client and may be forged).
Without trusted proxies (the default) ``X-Forwarded-For`` is ignored and the peer's address is used.
"""

import ipaddress

from django.conf import settings

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _parse(text: str) -> Address | None:
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped  # ::ffff:203.0.113.7 is 203.0.113.7
    return address


def _trusted(address: Address) -> bool:
    return any(address in network for network in settings.TRUSTED_PROXIES)


def client_address(request) -> str | None:
    """The address of the client that sent ``request`` (a string, as ``REMOTE_ADDR``), or None."""
    address = _parse(request.META.get("REMOTE_ADDR", ""))
    if address is None:
        return None
    if not _trusted(address):
        return str(address)
    hops = [hop for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    for hop in reversed(hops):
        parsed = _parse(hop)
        if parsed is None:
            break  # not an address: nothing to its left can be trusted; keep the last good hop
        address = parsed
        if not _trusted(address):
            break
    return str(address)
