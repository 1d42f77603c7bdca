"""The push part of docs/api.md: `GET /api/v1/push/key`, `GET/POST /api/v1/me/devices`,
`DELETE /api/v1/me/devices/{id}`, `channels` and `channels_automatic` in
`GET/PATCH /api/v1/me/preferences`, and push devices in the export and on signing out
and deleting an account. Endpoints are on the real push services' hosts: nothing is
ever sent to them here."""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from django.test import Client
from rest_framework.test import APIClient

from nuzzle.couples.models import User
from nuzzle.nudges import webpush
from nuzzle.nudges.models import NudgePreferences, PushDevice
from tests.factories import PASSWORD, new_nudge
from tests.pushservice import new_subscription

pytestmark = pytest.mark.django_db

KEY = "/api/v1/push/key"
DEVICES = "/api/v1/me/devices"
PREFERENCES = "/api/v1/me/preferences"
EXPORT = "/api/v1/me/export"


@pytest.fixture(autouse=True)
def production_rules(settings) -> Iterator[None]:
    """https only, on the default push services, with a server key of this test's own."""
    settings.WEBPUSH_ALLOW_HTTP = False
    settings.WEBPUSH_ENDPOINT_HOSTS = [
        "fcm.googleapis.com",
        "push.services.mozilla.com",
        "push.apple.com",
        "notify.windows.com",
    ]
    settings.WEBPUSH_VAPID_PRIVATE_KEY = ""
    webpush._vapid.cache_clear()
    yield
    webpush._vapid.cache_clear()


@pytest.fixture(autouse=True)
def _key_file(settings, tmp_path):
    settings.WEBPUSH_VAPID_KEY_FILE = tmp_path / "webpush-vapid.pem"


def subscription(host: str = "fcm.googleapis.com", path: str = "/fcm/send/") -> dict[str, Any]:
    """A browser's `PushSubscription.toJSON()` for a new endpoint on `host`."""
    return new_subscription(f"https://{host}{path}{secrets.token_urlsafe(24)}")


def register(client: APIClient, body: object, **extra: Any) -> Any:
    return client.post(DEVICES, body, format="json", **extra)


def session_client(user: User) -> Client:
    """A browser signed in with a session (the web app's own API calls)."""
    client = Client()
    client.force_login(user)
    return client


def devices_of(user: User) -> list[PushDevice]:
    return list(PushDevice.objects.filter(user=user).order_by("created_at", "id"))


# --- The server's key -------------------------------------------------------------


def test_the_push_key_is_the_server_s_vapid_key_for_anyone(api):
    response = api().get(KEY)

    assert response.status_code == 200
    assert response.json() == {"public_key": webpush.public_key()}
    key = response.json()["public_key"]
    raw = base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))
    assert len(raw) == 65
    ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)


def test_the_push_key_is_the_same_on_every_request_and_for_everyone(cast, api):
    keys = {api(who).get(KEY).json()["public_key"] for who in (None, cast.author, cast.other)}
    assert len(keys) == 1


# --- Registering a device ---------------------------------------------------------


def test_a_new_subscription_is_201_and_the_same_again_is_200_with_the_same_id(cast, api):
    client = api(cast.author)
    body = {**subscription(), "name": "Robin's phone"}

    first = register(client, body)

    assert first.status_code == 201
    created = first.json()
    assert set(created) == {"id", "name", "service", "created_at"}
    assert created["name"] == "Robin's phone"
    assert created["service"] == "fcm.googleapis.com"
    assert created["created_at"].endswith("Z")

    # The browser renewed its keys (same endpoint): the same device, keys refreshed.
    renewed = new_subscription(body["endpoint"])
    again = register(client, {**renewed, "name": ""})

    assert again.status_code == 200
    assert again.json() == created  # a blank name keeps the one it had
    (device,) = devices_of(cast.author)
    assert device.pk == created["id"]
    assert (device.p256dh, device.auth) == (renewed["keys"]["p256dh"], renewed["keys"]["auth"])
    assert device.name == "Robin's phone"

    renamed = register(client, {**renewed, "name": "  Old   phone "})
    assert renamed.status_code == 200
    assert renamed.json()["name"] == "Old phone"
    assert len(devices_of(cast.author)) == 1


@pytest.mark.parametrize(
    ("host", "path"),
    [
        ("fcm.googleapis.com", "/fcm/send/"),
        ("updates.push.services.mozilla.com", "/wpush/v2/"),
        ("web.push.apple.com", "/"),
        ("wns2-par02p.notify.windows.com", "/w/?token="),
    ],
)
def test_every_default_push_service_is_accepted_and_named(cast, api, host, path):
    response = register(api(cast.author), subscription(host, path))
    assert response.status_code == 201
    assert response.json()["service"] == host
    assert response.json()["name"] == ""


@pytest.mark.parametrize(
    ("endpoint", "listed"),
    [
        ("http://fcm.googleapis.com/fcm/send/abc", None),
        ("https://push.example.net/abc", None),
        ("https://notfcm.googleapis.com/fcm/send/abc", None),
        ("https://fcm.googleapis.com.attacker.net/fcm/send/abc", None),
        ("https://fcm.googleapis.com:8443/fcm/send/abc", None),
        ("https://user:pw@fcm.googleapis.com/fcm/send/abc", None),
        ("https://localhost/push/abc", "localhost"),
        ("https://127.0.0.1/push/abc", "127.0.0.1"),
        ("https://10.0.0.1/push/abc", "10.0.0.1"),
        ("https://[::1]/push/abc", "::1"),
        ("https://169.254.169.254/latest/meta-data", "169.254.169.254"),
        ("not a url", None),
        ("", None),
    ],
)
def test_an_endpoint_the_server_would_not_post_to_is_400_keyed_endpoint(
    cast, api, settings, endpoint, listed
):
    if listed is not None:
        settings.WEBPUSH_ENDPOINT_HOSTS = [*settings.WEBPUSH_ENDPOINT_HOSTS, listed]
    body = {**new_subscription("https://fcm.googleapis.com/fcm/send/x"), "endpoint": endpoint}

    response = register(api(cast.author), body)

    assert response.status_code == 400
    assert set(response.json()) == {"endpoint"}
    assert devices_of(cast.author) == []


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def filler(size: int) -> bytes:
    """`size` bytes that are the same on every run."""
    return bytes((7 * i + 3) % 256 for i in range(size))


@pytest.mark.parametrize(
    "keys",
    [
        {"p256dh": "not base64url!", "auth": b64url(filler(16))},
        {"p256dh": b64url(b"\x04" + bytes(64)), "auth": b64url(filler(16))},
        {"p256dh": b64url(filler(65)), "auth": b64url(filler(16))},
        {"p256dh": "", "auth": b64url(filler(16))},
        {"p256dh": None, "auth": None},
        {"auth": b64url(filler(16))},
        {"p256dh": "VALID", "auth": b64url(filler(8))},
        {"p256dh": "VALID", "auth": b64url(filler(32))},
        {"p256dh": "VALID", "auth": "a/b+c"},
        {"p256dh": "VALID", "auth": 16},
        {"p256dh": "VALID"},
        {"p256dh": "VALID", "auth": "A" * 41},
        {"p256dh": "B" * 101, "auth": b64url(filler(16))},
        [],
        "keys",
        None,
    ],
)
def test_keys_that_cannot_encrypt_are_400_keyed_keys(cast, api, keys):
    body = subscription()
    if isinstance(keys, dict) and keys.get("p256dh") == "VALID":
        keys = {**keys, "p256dh": body["keys"]["p256dh"]}

    response = register(api(cast.author), {**body, "keys": keys})

    assert response.status_code == 400
    assert set(response.json()) == {"keys"}
    assert devices_of(cast.author) == []


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"keys": {"p256dh": "x", "auth": "y"}},
        {"endpoint": 42, "keys": {"p256dh": "x", "auth": "y"}},
        {"endpoint": ["https://fcm.googleapis.com/fcm/send/x"], "keys": {}},
        {"endpoint": None, "keys": None},
        {"endpoint": True},
        {"endpoint": {"url": "https://fcm.googleapis.com/fcm/send/x"}},
        "https://fcm.googleapis.com/fcm/send/x",
        ["https://fcm.googleapis.com/fcm/send/x"],
        42,
        None,
    ],
)
def test_missing_fields_and_wrong_json_types_are_400_never_500(cast, api, body):
    response = register(api(cast.author), body)
    assert response.status_code == 400
    assert devices_of(cast.author) == []


@pytest.mark.parametrize("name", ["x" * 61, 42, ["phone"], {"n": 1}, "two\nlines", True])
def test_a_bad_device_name_is_400_keyed_name(cast, api, name):
    response = register(api(cast.author), {**subscription(), "name": name})
    assert response.status_code == 400
    assert "name" in response.json()
    assert devices_of(cast.author) == []


def test_an_endpoint_over_1000_characters_is_400(cast, api):
    body = subscription(path="/fcm/send/" + "a" * 1000)
    response = register(api(cast.author), body)
    assert response.status_code == 400
    assert "endpoint" in response.json()


def test_malformed_json_and_form_bodies_are_refused(cast, api):
    client = api(cast.author)
    broken = client.generic("POST", DEVICES, "{not json", content_type="application/json")
    assert broken.status_code == 400
    form = client.post(DEVICES, {"endpoint": "https://fcm.googleapis.com/x"}, format="multipart")
    assert form.status_code == 415


def test_the_eleventh_device_is_refused_and_a_known_one_may_still_renew(cast, api):
    client = api(cast.author)
    bodies = [subscription() for _ in range(webpush.MAX_DEVICES)]
    for body in bodies:
        assert register(client, body).status_code == 201

    eleventh = register(client, subscription())

    assert eleventh.status_code == 400
    assert "endpoint" in eleventh.json()
    assert len(devices_of(cast.author)) == webpush.MAX_DEVICES
    assert register(client, new_subscription(bodies[0]["endpoint"])).status_code == 200
    # Removing one makes room again.
    assert client.delete(f"{DEVICES}/{devices_of(cast.author)[0].pk}").status_code == 204
    assert register(client, subscription()).status_code == 201


def test_an_endpoint_someone_else_registered_moves_to_me(cast, api):
    body = subscription()
    theirs = register(api(cast.partner), body)
    assert theirs.status_code == 201

    mine = register(api(cast.author), new_subscription(body["endpoint"]))

    assert mine.status_code == 201
    assert devices_of(cast.partner) == []
    (device,) = devices_of(cast.author)
    assert device.pk == mine.json()["id"]
    assert device.endpoint == body["endpoint"]
    assert api(cast.partner).get(DEVICES).json() == []


def test_anonymous_people_cannot_register_list_or_remove_devices(api):
    assert register(api(), subscription()).status_code == 401
    assert api().get(DEVICES).status_code == 401
    assert api().delete(f"{DEVICES}/1").status_code == 401
    assert not PushDevice.objects.exists()


# --- Listing and removing ---------------------------------------------------------


def test_the_list_shows_my_devices_oldest_first_and_never_anyone_else_s(cast, api, time_machine):
    time_machine.move_to("2026-06-10T09:00:00Z", tick=False)
    mine = api(cast.author)
    first = register(mine, {**subscription(), "name": "Phone"}).json()
    time_machine.shift(60)
    second = register(mine, {**subscription("updates.push.services.mozilla.com"), "name": "Laptop"})
    register(api(cast.partner), {**subscription(), "name": "Sam's phone"})
    register(api(cast.other), {**subscription(), "name": "Kit's phone"})

    response = mine.get(DEVICES)

    assert response.status_code == 200
    assert response.json() == [
        {"id": first["id"], "name": "Phone", "service": "fcm.googleapis.com",
         "created_at": "2026-06-10T09:00:00Z"},
        {"id": second.json()["id"], "name": "Laptop",
         "service": "updates.push.services.mozilla.com", "created_at": "2026-06-10T09:01:00Z"},
    ]  # fmt: skip
    text = response.content.decode()
    for device in PushDevice.objects.all():
        assert device.endpoint not in text
        assert device.p256dh not in text
        assert device.auth not in text
    assert [d["name"] for d in api(cast.unpaired).get(DEVICES).json()] == []


def test_i_can_remove_my_device_but_not_my_partner_s_or_one_that_is_not_there(cast, api):
    mine = register(api(cast.author), subscription()).json()["id"]
    partners = register(api(cast.partner), subscription()).json()["id"]
    others = register(api(cast.other), subscription()).json()["id"]
    client = api(cast.author)

    assert client.delete(f"{DEVICES}/{partners}").status_code == 404
    assert client.delete(f"{DEVICES}/{others}").status_code == 404
    assert client.delete(f"{DEVICES}/{max(mine, partners, others) + 1000}").status_code == 404
    assert client.delete(f"{DEVICES}/{'9' * 19}").status_code == 404  # not an id at all
    assert client.delete(f"{DEVICES}/{mine}").status_code == 204
    assert client.delete(f"{DEVICES}/{mine}").status_code == 404  # gone already

    assert devices_of(cast.author) == []
    assert [d.pk for d in devices_of(cast.partner)] == [partners]
    assert [d.pk for d in devices_of(cast.other)] == [others]


# --- Signing out and deleting the account -----------------------------------------


def test_signing_out_of_the_browser_that_turned_notifications_on_turns_them_off(cast, api):
    browser = session_client(cast.author)
    here = browser.post(DEVICES, subscription(), content_type="application/json")
    assert here.status_code == 201
    app = register(api(cast.author), subscription())  # the app, with a token
    elsewhere = session_client(cast.author)  # another browser of Robin's

    assert elsewhere.post("/logout/").status_code in (200, 302)
    assert len(devices_of(cast.author)) == 2  # another session's logout removes nothing

    assert browser.post("/logout/").status_code in (200, 302)
    assert [d.pk for d in devices_of(cast.author)] == [app.json()["id"]]
    assert api(cast.author).get(DEVICES).status_code == 200  # the token still works


def test_signing_out_through_the_api_in_a_browser_turns_its_notifications_off(cast):
    browser = APIClient()
    browser.force_login(cast.author)
    assert register(browser, subscription()).status_code == 201

    assert browser.post("/api/v1/auth/logout").status_code == 204

    assert devices_of(cast.author) == []


def test_a_token_logout_leaves_every_device_alone(cast, api):
    client = api(cast.author)
    register(client, subscription())

    assert client.post("/api/v1/auth/logout").status_code == 204

    assert len(devices_of(cast.author)) == 1


def test_signing_out_after_the_browser_moved_to_someone_else_removes_nothing_of_theirs(cast):
    body = subscription()
    robins = session_client(cast.author)
    assert robins.post(DEVICES, body, content_type="application/json").status_code == 201
    sams = session_client(cast.partner)  # Sam signs in on the same browser...
    moved = sams.post(DEVICES, new_subscription(body["endpoint"]), content_type="application/json")
    assert moved.status_code == 201

    robins.post("/logout/")  # ...and Robin's old session ends

    assert [d.pk for d in devices_of(cast.partner)] == [moved.json()["id"]]


def test_deleting_my_account_removes_my_devices_and_only_mine(cast, api):
    client = api(cast.author)
    register(client, subscription())
    register(client, subscription())
    register(api(cast.partner), subscription())

    response = client.delete("/api/v1/me", {"password": PASSWORD}, format="json")

    assert response.status_code == 204
    assert not PushDevice.objects.filter(user_id=cast.author.pk).exists()
    assert len(devices_of(cast.partner)) == 1


def test_a_wrong_password_deletes_no_device(cast, api):
    client = api(cast.author)
    register(client, subscription())

    assert client.delete("/api/v1/me", {"password": "not it"}, format="json").status_code == 400
    assert len(devices_of(cast.author)) == 1


# --- Channels in the preferences --------------------------------------------------


def patch(client: APIClient, body: object) -> Any:
    return client.patch(PREFERENCES, body, format="json")


def stored_choice(user: User) -> str:
    return NudgePreferences.objects.get(user=user).channels


def channels(response: Any) -> tuple[dict[str, bool], bool]:
    body = response.json()
    return body["channels"], body["channels_automatic"]


def test_by_default_nudges_go_by_email_until_a_device_is_on_then_by_push(cast, api):
    client = api(cast.author)
    assert channels(client.get(PREFERENCES)) == ({"email": True, "push": False}, True)

    register(client, subscription())

    assert channels(client.get(PREFERENCES)) == ({"email": False, "push": True}, True)
    assert stored_choice(cast.author) == "auto"


def test_push_chosen_without_a_device_is_kept_and_shows_email_until_one_is_on(cast, api):
    client = api(cast.author)

    response = patch(client, {"channels": {"email": False, "push": True}})

    assert response.status_code == 200
    # The choice is kept and shown as chosen; where a nudge would go now is email, as
    # there is no device to push to.
    assert channels(response) == ({"email": False, "push": True}, False)
    assert response.json()["channels_now"] == {"email": True, "push": False}
    assert stored_choice(cast.author) == "push"
    # Sent back as it came, the answer changes nothing.
    echoed = {key: response.json()[key] for key in ("channels", "channels_automatic")}
    assert patch(client, echoed).status_code == 200
    assert stored_choice(cast.author) == "push"

    register(client, subscription())
    assert channels(client.get(PREFERENCES)) == ({"email": False, "push": True}, False)
    assert client.get(PREFERENCES).json()["channels_now"] == {"email": False, "push": True}


def test_both_chosen_shows_both_once_there_is_a_device(cast, api):
    client = api(cast.author)
    register(client, subscription())

    response = patch(client, {"channels": {"email": True, "push": True}})

    assert response.status_code == 200
    assert channels(response) == ({"email": True, "push": True}, False)
    assert stored_choice(cast.author) == "both"


def test_a_key_left_out_keeps_where_nudges_go_now(cast, api):
    client = api(cast.author)
    register(client, subscription())  # automatic: push only

    response = patch(client, {"channels": {"email": True}})

    assert channels(response) == ({"email": True, "push": True}, False)
    assert stored_choice(cast.author) == "both"
    response = patch(client, {"channels": {"push": False}})
    assert channels(response) == ({"email": True, "push": False}, False)
    assert stored_choice(cast.author) == "email"


def test_email_chosen_stays_email_with_a_device(cast, api):
    client = api(cast.author)
    register(client, subscription())

    response = patch(client, {"channels": {"email": True, "push": False}})

    assert channels(response) == ({"email": True, "push": False}, False)
    assert stored_choice(cast.author) == "email"


def test_choosing_neither_channel_is_400_keyed_channels_and_changes_nothing(cast, api):
    client = api(cast.author)
    patch(client, {"channels": {"email": True, "push": True}})

    response = patch(client, {"channels": {"email": False, "push": False}})

    assert response.status_code == 400
    assert set(response.json()) == {"channels"}
    assert stored_choice(cast.author) == "both"


def test_turning_off_the_only_channel_on_is_400(cast, api):
    client = api(cast.author)  # no device: automatic means email
    response = patch(client, {"channels": {"email": False}})
    assert response.status_code == 400
    assert set(response.json()) == {"channels"}
    assert stored_choice(cast.author) == "auto"


def test_automatic_true_wins_over_channels_beside_it_so_a_get_sent_back_changes_nothing(cast, api):
    client = api(cast.author)
    register(client, subscription())
    answer = client.get(PREFERENCES).json()
    assert answer["channels_automatic"] is True

    response = patch(client, {"channels": answer["channels"], "channels_automatic": True})
    assert response.status_code == 200
    assert stored_choice(cast.author) == "auto"

    patch(client, {"channels": {"email": True, "push": False}})
    response = patch(client, {"channels": {"push": True}, "channels_automatic": True})
    assert response.status_code == 200
    assert stored_choice(cast.author) == "auto"


def test_channels_with_automatic_false_is_just_a_choice(cast, api):
    client = api(cast.author)
    response = patch(
        client, {"channels": {"email": True, "push": True}, "channels_automatic": False}
    )
    assert response.status_code == 200
    assert stored_choice(cast.author) == "both"


def test_automatic_true_goes_back_to_automatic(cast, api):
    client = api(cast.author)
    register(client, subscription())
    patch(client, {"channels": {"email": True, "push": True}})

    response = patch(client, {"channels_automatic": True})

    assert response.status_code == 200
    assert channels(response) == ({"email": False, "push": True}, True)
    assert stored_choice(cast.author) == "auto"


@pytest.mark.parametrize(("device", "choice"), [(True, "push"), (False, "email")])
def test_automatic_false_alone_keeps_where_nudges_go_now_as_my_choice(cast, api, device, choice):
    client = api(cast.author)
    if device:
        register(client, subscription())
    before = channels(client.get(PREFERENCES))[0]

    response = patch(client, {"channels_automatic": False})

    assert response.status_code == 200
    assert channels(response) == (before, False)
    assert stored_choice(cast.author) == choice


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"channels": "push"}, "channels"),
        ({"channels": ["email"]}, "channels"),
        ({"channels": None}, "channels"),
        ({"channels": {"email": "yes"}}, "channels"),
        ({"channels": {"email": 1}}, "channels"),
        ({"channels": {"push": None}}, "channels"),
        ({"channels": {"sms": True}}, "channels"),
        ({"channels": {"email": True, "sms": True}}, "channels"),
        ({"channels_automatic": 1}, "channels_automatic"),
        ({"channels_automatic": "true"}, "channels_automatic"),
        ({"channels_automatic": None}, "channels_automatic"),
        ({"channels_automatic": {"on": True}}, "channels_automatic"),
    ],
)
def test_wrong_types_for_channels_are_400_keyed_by_field_and_change_nothing(cast, api, body, field):
    client = api(cast.author)
    patch(client, {"channels": {"email": True, "push": True}})

    response = patch(client, body)

    assert response.status_code == 400
    assert field in response.json()
    assert stored_choice(cast.author) == "both"


def test_a_bad_channels_choice_spoils_the_whole_patch(cast, api):
    client = api(cast.author)
    response = patch(client, {"daily_cap": 3, "channels": {"email": False, "push": False}})
    assert response.status_code == 400
    assert NudgePreferences.objects.get(user=cast.author).daily_cap == 1


def test_channels_and_other_fields_change_together(cast, api):
    client = api(cast.author)
    response = patch(client, {"daily_cap": 2, "channels": {"email": True, "push": True}})
    assert response.status_code == 200
    assert response.json()["daily_cap"] == 2
    assert stored_choice(cast.author) == "both"


# --- The export -------------------------------------------------------------------


def test_my_export_lists_my_devices_and_channels_but_no_endpoint_or_key(cast, api, time_machine):
    time_machine.move_to("2026-06-10T09:00:00Z", tick=False)
    client = api(cast.author)
    body = {**subscription(), "name": "Phone"}
    register(client, body)
    partners = subscription()
    register(api(cast.partner), {**partners, "name": "Sam's phone"})
    patch(client, {"channels": {"email": True, "push": True}})
    new_nudge(user=cast.author, status="sent", sent_via="push,email")

    response = client.get(EXPORT)

    assert response.status_code == 200
    export = response.json()
    assert export["push_devices"] == [
        {"name": "Phone", "service": "fcm.googleapis.com", "created_at": "2026-06-10T09:00:00Z"}
    ]
    assert export["nudge_preferences"]["channels"] == "both"
    assert [n["sent_via"] for n in export["nudges"]] == ["push,email"]
    text = response.content.decode()
    for secret in (
        body["endpoint"],
        body["keys"]["p256dh"],
        body["keys"]["auth"],
        body["endpoint"].rsplit("/", 1)[1],  # the capability token on its own
        partners["endpoint"],
        "Sam's phone",
    ):
        assert secret not in text
        assert json.dumps(secret)[1:-1] not in text


def test_an_export_without_devices_has_an_empty_list_and_automatic_channels(cast, api):
    export = api(cast.author).get(EXPORT).json()
    assert export["push_devices"] == []
    assert export["nudge_preferences"]["channels"] == "auto"


def test_a_new_password_signs_out_everywhere_and_turns_off_every_device(cast, api):
    client = api(cast.author)
    register(client, subscription())
    register(client, subscription())
    partners = api(cast.partner)
    register(partners, subscription())

    cast.author.set_password("a brand new passphrase 42")
    cast.author.save()

    assert not PushDevice.objects.filter(user=cast.author).exists()
    assert PushDevice.objects.filter(user=cast.partner).count() == 1
