"""Web Push plumbing on its own (nuzzle/nudges/webpush.py): which endpoints the server
will ever POST to, which browser keys it accepts, and the server's VAPID key. No
database and no network: name resolution is replaced where it is under test."""

from __future__ import annotations

import base64
import os
import socket
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from nuzzle.nudges import webpush
from nuzzle.nudges.webpush import Refused, check_address, check_endpoint, check_keys
from tests.pushservice import make_subscription

LISTED = [
    "fcm.googleapis.com",
    "push.services.mozilla.com",
    "push.apple.com",
    "notify.windows.com",
]

# What browsers really hand out (tokens shortened).
REAL_ENDPOINTS = [
    "https://fcm.googleapis.com/fcm/send/dGhpcyBpcyBub3QgYSByZWFs:APA91bH-k9Zq",
    "https://updates.push.services.mozilla.com/wpush/v2/gAAAAABmZ3Jvb3Q",
    "https://web.push.apple.com/QGd3B1fP9nQ3Lm7uT-pQhVjQ",
    "https://wns2-par02p.notify.windows.com/w/?token=BQYAAAB%2bXyZ%3d",
    "https://fcm.googleapis.com:443/fcm/send/abc",  # the https port, spelled out
    "https://FCM.GoogleAPIs.com/fcm/send/abc",  # host names are case-insensitive
]


@pytest.fixture(autouse=True)
def production_rules(settings):
    """The production rules: https only, the default push services."""
    settings.WEBPUSH_ALLOW_HTTP = False
    settings.WEBPUSH_ENDPOINT_HOSTS = list(LISTED)


def refused(endpoint: object) -> str:
    with pytest.raises(Refused) as caught:
        check_endpoint(endpoint)
    return str(caught.value)


# --- check_endpoint ---------------------------------------------------------------


@pytest.mark.parametrize("endpoint", REAL_ENDPOINTS)
def test_real_push_service_endpoints_are_accepted_as_given(endpoint):
    assert check_endpoint(endpoint) == endpoint


def test_http_is_refused_in_production():
    assert "https" in refused("http://fcm.googleapis.com/fcm/send/abc")


@pytest.mark.parametrize("scheme", ["ftp", "file", "ws", "wss", "javascript", "HTTPS "])
def test_other_schemes_are_refused(scheme):
    refused(f"{scheme}://fcm.googleapis.com/fcm/send/abc")


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://example.com/push/abc",
        "https://googleapis.com/fcm/send/abc",  # the parent of a listed host
        "https://mozilla.com/wpush/v2/abc",
    ],
)
def test_a_host_that_is_not_listed_is_refused(endpoint):
    assert "push service" in refused(endpoint)


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://notfcm.googleapis.com/fcm/send/abc",  # ends with the name, no dot boundary
        "https://evilfcm.googleapis.com/fcm/send/abc",
        "https://evilfcm.googleapis.com.attacker.net/fcm/send/abc",
        "https://fcm.googleapis.com.attacker.net/fcm/send/abc",
        "https://fcm.googleapis.community/fcm/send/abc",
        "https://xpush.apple.com/abc",
    ],
)
def test_a_look_alike_of_a_listed_host_is_refused(endpoint):
    assert "push service" in refused(endpoint)


def test_a_subdomain_of_a_listed_host_is_accepted_and_so_is_a_trailing_dot():
    for endpoint in (
        "https://a.b.fcm.googleapis.com/fcm/send/abc",
        "https://fcm.googleapis.com./fcm/send/abc",
    ):
        assert check_endpoint(endpoint) == endpoint


def test_a_listed_host_written_with_a_leading_dot_or_in_capitals_still_counts(settings):
    settings.WEBPUSH_ENDPOINT_HOSTS = [".Push.Example.NET", " "]
    assert check_endpoint("https://push.example.net/x")
    assert check_endpoint("https://eu.push.example.net/x")
    refused("https://example.net/x")
    refused("https://pushexample.net/x")


def test_nothing_is_accepted_when_no_host_is_listed(settings):
    settings.WEBPUSH_ENDPOINT_HOSTS = []
    for endpoint in REAL_ENDPOINTS:
        refused(endpoint)


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://user:secret@fcm.googleapis.com/fcm/send/abc",
        "https://user@fcm.googleapis.com/fcm/send/abc",
        "https://:secret@fcm.googleapis.com/fcm/send/abc",
        "https://@fcm.googleapis.com/fcm/send/abc",
        # The classic parser confusions: each names credentials to urlsplit.
        "https://evil.example\\@fcm.googleapis.com/fcm/send/abc",
        "https://fcm.googleapis.com@evil.example/fcm/send/abc",
    ],
)
def test_credentials_in_the_url_are_refused(endpoint):
    refused(endpoint)


@pytest.mark.parametrize("port", [80, 8443, 444, 1, 65535])
def test_a_port_other_than_443_is_refused(port):
    assert "port" in refused(f"https://fcm.googleapis.com:{port}/fcm/send/abc")


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://localhost/push/abc",
        "https://LOCALHOST/push/abc",
        "https://localhost.localdomain/push/abc",
        "https://push.localhost/abc",
        "https://127.0.0.1/push/abc",
        "https://127.1.2.3/push/abc",
        "https://10.0.0.1/push/abc",
        "https://172.16.5.4/push/abc",
        "https://192.168.1.1/push/abc",
        "https://169.254.169.254/latest/meta-data",  # cloud metadata
        "https://100.64.0.1/push/abc",  # carrier-grade NAT
        "https://0.0.0.0/push/abc",
        "https://[::1]/push/abc",
        "https://[fe80::1]/push/abc",
        "https://[fd00::1]/push/abc",
        "https://[::ffff:127.0.0.1]/push/abc",
        "https://[::ffff:10.0.0.1]/push/abc",
        "https://224.0.0.1/push/abc",
    ],
)
def test_loopback_private_and_local_addresses_are_refused_even_when_listed(settings, endpoint):
    host = endpoint.split("//", 1)[1].split("/", 1)[0].strip("[]").lower()
    settings.WEBPUSH_ENDPOINT_HOSTS = [*LISTED, host, "localhost"]
    assert "address" in refused(endpoint)


@pytest.mark.parametrize(
    ("listed", "endpoint"),
    [("localhost", "https://localhost./push/abc"), ("127.0.0.1", "https://127.0.0.1./x")],
)
def test_a_listed_loopback_name_with_a_trailing_dot_is_refused_too(settings, listed, endpoint):
    settings.WEBPUSH_ENDPOINT_HOSTS = [*LISTED, listed]
    refused(endpoint)


def test_a_public_ip_literal_that_is_listed_is_accepted(settings):
    settings.WEBPUSH_ENDPOINT_HOSTS = ["203.0.114.7", "2606:4700::1111"]
    assert check_endpoint("https://203.0.114.7/push/abc")
    assert check_endpoint("https://[2606:4700::1111]/push/abc")


@pytest.mark.parametrize(
    "endpoint",
    [
        None,
        "",
        42,
        b"https://fcm.googleapis.com/fcm/send/abc",
        ["https://fcm.googleapis.com/fcm/send/abc"],
        {"endpoint": "https://fcm.googleapis.com/fcm/send/abc"},
        "fcm.googleapis.com/fcm/send/abc",
        "//fcm.googleapis.com/fcm/send/abc",
        "https://",
        "https:///fcm/send/abc",
        "https://[::1",
        "https://fcm.googleapis.com:99999/fcm/send/abc",
        "https://fcm.googleapis.com:port/fcm/send/abc",
        "not a url at all",
        "https://fcm.googleapis.com/" + "a" * 1000,
    ],
)
def test_garbage_is_refused_never_an_exception_of_another_kind(endpoint):
    refused(endpoint)


def test_an_endpoint_of_exactly_1000_characters_is_accepted():
    base = "https://fcm.googleapis.com/fcm/send/"
    endpoint = base + "a" * (1000 - len(base))
    assert check_endpoint(endpoint) == endpoint


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://fcm.google\tapis.com/fcm/send/abc",
        "https://fcm.googleapis.com/fcm/send/abc\ndef",
        "https://fcm.googleapis.com/fcm/send/abc\r\n",
    ],
)
def test_an_endpoint_with_control_characters_is_refused(endpoint):
    refused(endpoint)


def test_http_and_local_addresses_are_allowed_only_for_development(settings):
    settings.WEBPUSH_ALLOW_HTTP = True
    settings.WEBPUSH_ENDPOINT_HOSTS = ["127.0.0.1", "localhost"]
    assert check_endpoint("http://127.0.0.1:8123/push/abc")
    assert check_endpoint("https://localhost:8443/push/abc")
    # Still only on listed hosts, and still no credentials.
    refused("http://10.0.0.1/push/abc")
    refused("http://user:pw@127.0.0.1:8123/push/abc")
    refused("ftp://127.0.0.1/push/abc")


# --- check_address ----------------------------------------------------------------


def addresses(*ips: str) -> Any:
    """A stand-in for socket.getaddrinfo that resolves every name to `ips`, recording
    what it was asked."""

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        getaddrinfo.asked.append((host, port))  # type: ignore[attr-defined]
        return [
            (
                socket.AF_INET6 if ":" in ip else socket.AF_INET,
                socket.SOCK_STREAM,
                socket.IPPROTO_TCP,
                "",
                (ip, port, 0, 0) if ":" in ip else (ip, port),
            )
            for ip in ips
        ]

    getaddrinfo.asked = []  # type: ignore[attr-defined]
    return getaddrinfo


ENDPOINT = "https://fcm.googleapis.com/fcm/send/abc"


def test_a_listed_name_resolving_to_public_addresses_may_be_posted_to(monkeypatch):
    resolve = addresses("142.250.180.10", "2a00:1450:4009:81f::200a")
    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    assert check_address(ENDPOINT) is None
    assert resolve.asked == [("fcm.googleapis.com", 443)]


@pytest.mark.parametrize(
    "ips",
    [
        ("127.0.0.1",),
        ("10.1.2.3",),
        ("192.168.0.10",),
        ("169.254.169.254",),
        ("::1",),
        ("fe80::1%eth0",),
        ("::ffff:127.0.0.1",),
        ("142.250.180.10", "10.0.0.1"),  # one private address among public ones
    ],
)
def test_a_listed_name_resolving_to_a_non_public_address_is_refused(monkeypatch, ips):
    monkeypatch.setattr(socket, "getaddrinfo", addresses(*ips))
    with pytest.raises(Refused, match="non-public"):
        check_address(ENDPOINT)


def test_a_name_that_resolves_to_nothing_is_refused(monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", addresses())
    with pytest.raises(Refused):
        check_address(ENDPOINT)


def test_a_name_that_does_not_resolve_is_an_os_error_to_retry_not_a_refusal(monkeypatch):
    def unresolvable(*args: Any, **kwargs: Any) -> list[Any]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", unresolvable)
    with pytest.raises(OSError, match="not known") as caught:
        check_address(ENDPOINT)
    assert not isinstance(caught.value, Refused)


def test_an_endpoint_no_longer_listed_is_refused_before_any_lookup(monkeypatch, settings):
    resolve = addresses("142.250.180.10")
    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    settings.WEBPUSH_ENDPOINT_HOSTS = ["push.services.mozilla.com"]
    with pytest.raises(Refused):
        check_address(ENDPOINT)
    assert resolve.asked == []


def test_development_skips_the_lookup(monkeypatch, settings):
    settings.WEBPUSH_ALLOW_HTTP = True
    settings.WEBPUSH_ENDPOINT_HOSTS = ["127.0.0.1"]
    resolve = addresses("127.0.0.1")
    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    assert check_address("http://127.0.0.1:8123/push/abc") is None
    assert resolve.asked == []


# --- check_keys -------------------------------------------------------------------


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def filler(size: int) -> bytes:
    """`size` bytes that are the same on every run (test ids must not vary under xdist)."""
    return bytes((7 * i + 3) % 256 for i in range(size))


@pytest.fixture
def browser_keys() -> tuple[str, str]:
    subscription = make_subscription("https://fcm.googleapis.com/fcm/send/abc")
    return subscription.p256dh, subscription.auth


def test_a_browser_s_keys_are_accepted_as_given(browser_keys):
    p256dh, auth = browser_keys
    assert check_keys(p256dh, auth) == (p256dh, auth)
    # With base64url padding, as some clients send it.
    padded = (p256dh + "=" * (-len(p256dh) % 4), auth + "==")
    assert check_keys(*padded) == padded


def not_on_the_curve() -> bytes:
    """An uncompressed point (0x04 || x || y) whose y does not satisfy P-256's equation."""
    point = bytearray(b64url_decode_strict(make_subscription("https://x.invalid/").p256dh))
    point[-1] ^= 0x01
    return bytes(point)


def b64url_decode_strict(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@pytest.mark.parametrize(
    "p256dh",
    [
        None,
        42,
        "",
        "not base64url!",
        "BAAA+/AAA",  # standard base64's alphabet
        "BA AA",
        pytest.param(b64url(b"\x04" + filler(63)), id="64-bytes"),
        pytest.param(b64url(b"\x04" + filler(65)), id="66-bytes"),
        pytest.param(b64url(b"\x04" + bytes(64)), id="zeros-off-the-curve"),
        pytest.param(b64url(filler(32)), id="a-bare-coordinate"),
        pytest.param("B" * 101, id="longer-than-any-key"),
    ],
)
def test_a_p256dh_that_is_not_a_p256_point_is_refused(browser_keys, p256dh):
    with pytest.raises(Refused, match="p256dh"):
        check_keys(p256dh, browser_keys[1])


def test_a_point_off_the_curve_is_refused(browser_keys):
    with pytest.raises(Refused, match="p256dh"):
        check_keys(b64url(not_on_the_curve()), browser_keys[1])


def test_a_point_on_another_curve_is_refused(browser_keys):
    other = ec.generate_private_key(ec.SECP384R1()).public_key()
    raw = other.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    with pytest.raises(Refused, match="p256dh"):
        check_keys(b64url(raw), browser_keys[1])


def test_a_compressed_p256dh_is_refused_as_pushes_need_the_65_byte_form(browser_keys):
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    compressed = key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint
    )
    assert len(compressed) == 33
    with pytest.raises(Refused, match="p256dh"):
        check_keys(b64url(compressed), browser_keys[1])


@pytest.mark.parametrize(
    "auth",
    [
        None,
        16,
        "",
        pytest.param(b64url(filler(15)), id="15-bytes"),
        pytest.param(b64url(filler(17)), id="17-bytes"),
        pytest.param(b64url(filler(32)), id="32-bytes"),
        "not/base64url+",
        "A" * 41,
    ],
)
def test_an_auth_secret_that_is_not_16_bytes_is_refused(browser_keys, auth):
    with pytest.raises(Refused, match="auth"):
        check_keys(browser_keys[0], auth)


# --- The VAPID key ----------------------------------------------------------------


@pytest.fixture
def key_file(settings, tmp_path) -> Iterator[Path]:
    """A fresh place for the generated key, nothing configured, and no cached key."""
    path = tmp_path / "var" / "webpush-vapid.pem"
    settings.WEBPUSH_VAPID_PRIVATE_KEY = ""
    settings.WEBPUSH_VAPID_KEY_FILE = path
    webpush._vapid.cache_clear()
    yield path
    webpush._vapid.cache_clear()


def point_of(key: ec.EllipticCurvePrivateKey) -> str:
    return b64url(
        key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
    )


def test_the_public_key_is_an_uncompressed_p256_point_in_base64url(key_file):
    key = webpush.public_key()
    assert "=" not in key
    raw = b64url_decode_strict(key)
    assert len(raw) == 65
    assert raw[0] == 0x04
    ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)


def test_a_generated_key_is_made_once_kept_private_and_read_back(key_file):
    assert not key_file.exists()
    first = webpush.public_key()
    assert key_file.exists()
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    written = key_file.read_bytes()
    assert written.startswith(b"-----BEGIN PRIVATE KEY-----")

    assert webpush.public_key() == first
    webpush._vapid.cache_clear()  # another process, or a restart
    assert webpush.public_key() == first
    assert key_file.read_bytes() == written
    # No temporary files are left behind next to it.
    assert [p.name for p in key_file.parent.iterdir()] == [key_file.name]


def test_a_key_file_another_process_wrote_first_wins(key_file):
    theirs = ec.generate_private_key(ec.SECP256R1())
    key_file.parent.mkdir(parents=True)
    key_file.write_bytes(
        theirs.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    assert webpush.public_key() == point_of(theirs)


def test_another_key_file_is_another_key(key_file, settings, tmp_path):
    first = webpush.public_key()
    settings.WEBPUSH_VAPID_KEY_FILE = tmp_path / "elsewhere.pem"
    assert webpush.public_key() != first


@pytest.mark.parametrize(
    ("encoding", "form"),
    [
        (serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8),
        (serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL),
    ],
)
def test_a_configured_pem_key_is_used_and_no_file_is_written(key_file, settings, encoding, form):
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(encoding, form, serialization.NoEncryption()).decode()
    settings.WEBPUSH_VAPID_PRIVATE_KEY = f"\n{pem}\n"  # as pasted, with stray newlines
    assert webpush.public_key() == point_of(key)
    assert not key_file.exists()


def test_a_configured_raw_base64url_key_is_used(key_file, settings):
    key = ec.generate_private_key(ec.SECP256R1())
    raw = key.private_numbers().private_value.to_bytes(32, "big")
    settings.WEBPUSH_VAPID_PRIVATE_KEY = b64url(raw)
    assert webpush.public_key() == point_of(key)
    assert not key_file.exists()


def test_a_configured_der_key_in_base64_is_used(key_file, settings):
    # .env.example shows one of these ("MHcCAQEE...": SEC1 DER, base64).
    key = ec.generate_private_key(ec.SECP256R1())
    der = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    settings.WEBPUSH_VAPID_PRIVATE_KEY = base64.b64encode(der).decode()
    assert settings.WEBPUSH_VAPID_PRIVATE_KEY.startswith("MHcCAQEE")
    assert webpush.public_key() == point_of(key)


def test_the_configured_key_signs_what_the_public_key_says(key_file, settings):
    key = ec.generate_private_key(ec.SECP256R1())
    settings.WEBPUSH_VAPID_PRIVATE_KEY = b64url(
        key.private_numbers().private_value.to_bytes(32, "big")
    )
    headers = webpush.vapid().sign(
        {"aud": "https://fcm.googleapis.com", "exp": 2_000_000_000, "sub": "mailto:a@b.example"}
    )
    assert f"k={point_of(key)}" in headers["Authorization"]


def test_a_key_made_by_new_private_key_is_one_line_and_configures_the_server(key_file, settings):
    made = webpush.new_private_key()
    assert "\n" not in made
    assert "=" not in made
    settings.WEBPUSH_VAPID_PRIVATE_KEY = made
    public = webpush.public_key()
    assert len(b64url_decode_strict(public)) == 65
    assert not key_file.exists()
    settings.WEBPUSH_VAPID_PRIVATE_KEY = webpush.new_private_key()
    assert webpush.public_key() != public  # a new key each time
