"""Web Push plumbing: the server's VAPID key, and which subscriptions it will POST to.

- **The key** (RFC 8292): from `WEBPUSH_VAPID_PRIVATE_KEY` (PEM or base64url), else
  generated on first use and kept in `var/webpush-vapid.pem` (the embedded default). Its
  public half is the `applicationServerKey` browsers subscribe with
  (`GET /api/v1/push/key`); every push is signed with it. Keys are made and used by
  py-vapid and cryptography: nothing here does cryptography by hand.
- **Where to POST** (no server-side request forgery): the server sends to a URL a
  browser gave it, so an endpoint must be `https` on a host listed in
  `WEBPUSH_ENDPOINT_HOSTS` (or a subdomain of one), and must not be, or resolve to, a
  loopback, private or otherwise non-public address. `WEBPUSH_ALLOW_HTTP` lifts the
  last two rules for development and tests only (a local stand-in). Redirects are never
  followed (`channels.push`).
- **The browser's keys** (RFC 8291): `p256dh` must be a point on P-256 and `auth` 16
  bytes, or the subscription is refused when it is registered, not when a nudge fails.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import ipaddress
import os
import re
import socket
import tempfile
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from py_vapid import Vapid02

MAX_DEVICES = 10  # per person: each is one request per nudge
_BASE64URL = re.compile(r"^[A-Za-z0-9_-]+={0,2}$")


class Refused(ValueError):
    """An endpoint or key the server will not use; the message says why, plainly."""


def b64url_decode(value: str) -> bytes:
    if not isinstance(value, str) or not _BASE64URL.fullmatch(value):
        raise Refused("is not base64url")
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError) as exc:
        raise Refused("is not base64url") from exc


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


# The key.


def vapid() -> Vapid02:
    """The server's signing key (cached per configured value)."""
    return _vapid(settings.WEBPUSH_VAPID_PRIVATE_KEY, str(settings.WEBPUSH_VAPID_KEY_FILE))


def public_key() -> str:
    """The application-server key browsers subscribe with: base64url, uncompressed."""
    point = vapid().public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return b64url_encode(point)


def new_private_key() -> str:
    """A fresh P-256 private key as base64url DER, the form WEBPUSH_VAPID_PRIVATE_KEY
    takes on one line."""
    key = ec.generate_private_key(ec.SECP256R1())
    der = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return b64url_encode(der)


@lru_cache(maxsize=4)
def _vapid(configured: str, key_file: str) -> Vapid02:
    if configured.strip():
        text = configured.strip()
        if text.startswith("-----BEGIN"):
            return Vapid02.from_pem(text.encode())
        return Vapid02.from_string(text)
    return Vapid02.from_pem(_kept_key(Path(key_file)))


def _kept_key(path: Path) -> bytes:
    """The generated key, made once: the first process to write it wins (an atomic
    link), and every other one reads the same file."""
    if not path.exists():
        key = ec.generate_private_key(ec.SECP256R1())
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".vapid-")
        try:
            os.write(fd, pem)
            os.close(fd)
            os.chmod(temporary, 0o600)
            with contextlib.suppress(FileExistsError):
                os.link(temporary, path)
        finally:
            os.unlink(temporary)
    return path.read_bytes()


# Where the server will POST.


def host_listed(host: str) -> bool:
    host = host.lower().rstrip(".")
    for listed in settings.WEBPUSH_ENDPOINT_HOSTS:
        listed = listed.lower().strip().lstrip(".").rstrip(".")
        if listed and (host == listed or host.endswith("." + listed)):
            return True
    return False


def _public(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    return ip.is_global and not ip.is_multicast


def check_endpoint(endpoint: object) -> str:
    """The endpoint as given, if the server may ever POST to it; else `Refused`. Checks
    what can be checked without the network (see `check_address` for the rest)."""
    if not isinstance(endpoint, str) or not endpoint or len(endpoint) > 1000:
        raise Refused("must be a URL of at most 1000 characters")
    if any(char.isspace() or not char.isprintable() for char in endpoint):
        # Python's URL parser drops tabs and newlines before checking; requests refuses
        # them when sending. Refuse them here, where the person can still be told.
        raise Refused("must not contain spaces or control characters")
    try:
        parts = urlsplit(endpoint)
        port = parts.port
    except ValueError as exc:
        raise Refused("is not a valid URL") from exc
    allow_http = settings.WEBPUSH_ALLOW_HTTP
    if parts.scheme != "https" and not (allow_http and parts.scheme == "http"):
        raise Refused("must be an https URL")
    host = (parts.hostname or "").rstrip(".")
    if not host or parts.username is not None or parts.password is not None:
        raise Refused("must name a host and no credentials")
    if port is not None and not allow_http and port != 443:
        raise Refused("must use the standard https port")
    if not host_listed(host):
        raise Refused("is not on a push service this server sends to")
    if not allow_http:
        if host in ("localhost", "localhost.localdomain") or host.endswith(".localhost"):
            raise Refused("must not be a loopback address")
        try:
            ipaddress.ip_address(host)
        except ValueError:
            pass  # a name: its addresses are checked when a push is sent
        else:
            if not _public(host):
                raise Refused("must not be a loopback or private address")
    return endpoint


def origin(endpoint: str) -> str:
    """The endpoint's origin as RFC 6454 spells it (the VAPID audience): lower-case
    host, no default port."""
    parts = urlsplit(endpoint)
    default = {"https": 443, "http": 80}.get(parts.scheme)
    port = f":{parts.port}" if parts.port and parts.port != default else ""
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}{port}"


def check_address(endpoint: str) -> None:
    """Just before a POST: the endpoint's host must resolve to public addresses only
    (a listed name pointed at an internal one is refused). `OSError` when it does not
    resolve at all (temporary). Skipped under `WEBPUSH_ALLOW_HTTP`."""
    check_endpoint(endpoint)
    if settings.WEBPUSH_ALLOW_HTTP:
        return
    parts = urlsplit(endpoint)
    infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    if not infos or not all(_public(str(info[4][0])) for info in infos):
        raise Refused("resolves to a non-public address")


def check_keys(p256dh: object, auth: object) -> tuple[str, str]:
    """The browser's keys, if usable for RFC 8291 encryption; else `Refused`."""
    if not isinstance(p256dh, str) or len(p256dh) > 100:
        raise Refused("p256dh must be a base64url P-256 public key")
    try:
        point = b64url_decode(p256dh)
        # RFC 8291 uses the uncompressed form (65 bytes); a compressed key parses but
        # could never be encrypted to.
        if len(point) != 65:
            raise Refused("p256dh must be a base64url P-256 public key")
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except (Refused, ValueError) as exc:
        raise Refused("p256dh must be a base64url P-256 public key") from exc
    if not isinstance(auth, str) or len(auth) > 40:
        raise Refused("auth must be 16 bytes, base64url")
    try:
        secret = b64url_decode(auth)
    except Refused as exc:
        raise Refused("auth must be 16 bytes, base64url") from exc
    if len(secret) != 16:
        raise Refused("auth must be 16 bytes, base64url")
    return p256dh, auth
