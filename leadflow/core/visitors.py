"""Who is asking, for the rate limits of public pages (web forms, unsubscribe links,
calendar feeds): the visitor's address behind our own reverse proxy, and a keyed hash
of it (a limit needs to recognise an address, not to store it)."""

import hashlib
import hmac
import ipaddress

from django.conf import settings

_SALT = "leadflow.visitor"


def client_ip(request) -> str:
    """The visitor's address. Behind a reverse proxy on this machine (or one listed in
    LEADFLOW_TRUSTED_PROXIES) it is the last X-Forwarded-For entry, which the proxy
    appended itself; a visitor's own X-Forwarded-For is never trusted."""
    remote = request.META.get("REMOTE_ADDR", "") or ""
    trusted = set(getattr(settings, "LEADFLOW_TRUSTED_PROXIES", ()))
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if forwarded and (_is_loopback(remote) or remote in trusted):
        last = forwarded.split(",")[-1].strip()
        if _valid_ip(last):
            return last
    return remote


def _is_loopback(value: str) -> bool:
    try:
        return ipaddress.ip_address(value).is_loopback
    except ValueError:
        return False


def _valid_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def hash_ip(ip: str) -> str:
    """A keyed hash of an address (HMAC-SHA256 with a key derived from SECRET_KEY)."""
    key = hashlib.sha256(f"{_SALT}.{settings.SECRET_KEY}".encode()).digest()
    return hmac.new(key, (ip or "-").encode(), hashlib.sha256).hexdigest()
