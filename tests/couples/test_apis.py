"""The Account and Couple parts of docs/api.md, status by status."""

import pytest
from knox.models import AuthToken
from rest_framework.test import APIClient

from nuzzle.couples import services
from nuzzle.couples.models import Couple, User
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

SIGNUP = "/api/v1/auth/signup"


def signup_body(**overrides):
    body = {
        "email": "robin@example.com",
        "password": "a calm evening 42",
        "display_name": "Robin",
        "timezone": "Europe/Berlin",
    }
    body.update(overrides)
    return body


class TestSignup:
    def test_it_returns_201_with_a_working_token_and_the_user(self, api):
        response = api().post(SIGNUP, signup_body(), format="json")
        assert response.status_code == 201
        body = response.json()
        assert body["user"] == {
            "id": body["user"]["id"],
            "email": "robin@example.com",
            "display_name": "Robin",
            "timezone": "Europe/Berlin",
            "allow_sensitive_questions": False,
            "couple": None,
        }
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {body['token']}")
        assert client.get("/api/v1/me").json()["email"] == "robin@example.com"

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("password", "password"),
            ("password", "short"),
            ("timezone", "Europe/Atlantis"),
            ("email", "nope"),
            ("display_name", ""),
            ("display_name", "x" * 51),
        ],
    )
    def test_bad_fields_get_400_with_field_errors_and_store_nothing(self, api, field, value):
        response = api().post(SIGNUP, signup_body(**{field: value}), format="json")
        assert response.status_code == 400
        assert field in response.json()
        assert not User.objects.exists()

    def test_a_taken_email_gets_400(self, api):
        UserFactory(email="robin@example.com")
        response = api().post(SIGNUP, signup_body(email="Robin@Example.com"), format="json")
        assert response.status_code == 400
        assert "email" in response.json()

    @pytest.mark.parametrize(
        "email", ["robin@example.com", "Robin@Example.com", " ROBIN@example.com"]
    )
    def test_a_taken_email_in_any_case_gets_the_one_message_and_no_constraint_name(
        self, api, email
    ):
        UserFactory(email="robin@example.com")
        response = api().post(SIGNUP, signup_body(email=email), format="json")
        assert response.status_code == 400
        assert response.json() == {
            "email": ["An account with this email already exists. Try logging in."]
        }

    def test_form_encoded_bodies_get_415(self, api):
        response = api().post(SIGNUP, signup_body(), format="multipart")
        assert response.status_code == 415

    def test_malformed_json_gets_400(self, api):
        response = api().generic("POST", SIGNUP, "{not json", content_type="application/json")
        assert response.status_code == 400

    def test_an_oversized_body_gets_413(self, api):
        body = signup_body(display_name="x" * 70_000)
        response = api().post(SIGNUP, body, format="json")
        assert response.status_code == 413

    def test_sign_up_is_throttled(self, api, settings):
        client = api()
        statuses = [
            client.post(SIGNUP, signup_body(email=f"p{i}@example.com"), format="json").status_code
            for i in range(11)
        ]
        assert statuses[:10] == [201] * 10
        assert statuses[10] == 429


class TestToken:
    def test_right_credentials_get_a_token(self, api):
        UserFactory(email="robin@example.com")
        response = api().post(
            "/api/v1/auth/token",
            {"email": "ROBIN@example.com", "password": PASSWORD},
            format="json",
        )
        assert response.status_code == 200
        assert len(response.json()["token"]) >= 32

    def test_wrong_password_and_unknown_email_get_the_same_400(self, api):
        UserFactory(email="robin@example.com")
        wrong_password = api().post(
            "/api/v1/auth/token",
            {"email": "robin@example.com", "password": "not it at all"},
            format="json",
        )
        unknown = api().post(
            "/api/v1/auth/token",
            {"email": "nobody@example.com", "password": "not it at all"},
            format="json",
        )
        assert wrong_password.status_code == unknown.status_code == 400
        assert wrong_password.json() == unknown.json()

    def test_logout_revokes_only_the_token_used(self, cast):
        _, first = AuthToken.objects.create(user=cast.author)
        _, second = AuthToken.objects.create(user=cast.author)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {first}")
        assert client.post("/api/v1/auth/logout").status_code == 204
        assert client.get("/api/v1/me").status_code == 401
        client.credentials(HTTP_AUTHORIZATION=f"Token {second}")
        assert client.get("/api/v1/me").status_code == 200

    def test_a_session_logout_through_the_api_ends_the_session(self, cast):
        client = APIClient(enforce_csrf_checks=False)
        client.force_login(cast.author)
        assert client.post("/api/v1/auth/logout").status_code == 204
        assert client.get("/api/v1/me").status_code == 401


class TestMe:
    def test_anonymous_gets_401(self, api):
        assert api().get("/api/v1/me").status_code == 401

    def test_a_garbage_token_gets_401(self):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
        assert client.get("/api/v1/me").status_code == 401

    def test_me_shows_the_couple_with_the_partner(self, cast, api):
        body = api(cast.author).get("/api/v1/me").json()
        assert body["couple"] == {
            "id": cast.couple.pk,
            "partner": {"display_name": "Sam", "timezone": "America/Los_Angeles"},
            "since": body["couple"]["since"],
            "timezone": "Pacific/Auckland",
        }
        assert body["couple"]["since"].endswith("Z")

    def test_patch_changes_name_and_zone(self, cast, api):
        response = api(cast.author).patch(
            "/api/v1/me", {"display_name": "Rob", "timezone": "Asia/Kolkata"}, format="json"
        )
        assert response.status_code == 200
        assert response.json()["display_name"] == "Rob"
        cast.author.refresh_from_db()
        assert cast.author.timezone == "Asia/Kolkata"

    def test_patch_with_a_bad_zone_gets_400_and_changes_nothing(self, cast, api):
        response = api(cast.author).patch(
            "/api/v1/me", {"display_name": "Rob", "timezone": "Moon/Base"}, format="json"
        )
        assert response.status_code == 400
        assert "timezone" in response.json()
        cast.author.refresh_from_db()
        assert cast.author.display_name == "Robin"

    def test_email_and_id_cannot_be_changed_by_smuggling(self, cast, api):
        api(cast.author).patch(
            "/api/v1/me", {"email": "evil@example.com", "id": 999}, format="json"
        )
        cast.author.refresh_from_db()
        assert cast.author.email != "evil@example.com"

    def test_wrong_method_gets_405(self, cast, api):
        assert api(cast.author).put("/api/v1/me", {}, format="json").status_code == 405


class TestInvitesApi:
    def test_create_returns_code_url_and_expiry(self, cast, api):
        response = api(cast.unpaired).post("/api/v1/couple/invites")
        assert response.status_code == 201
        body = response.json()
        assert body["url"].endswith(f"/invite/{body['code']}/")
        assert body["expires_at"]

    def test_a_paired_person_gets_409(self, cast, api):
        assert api(cast.author).post("/api/v1/couple/invites").status_code == 409

    def test_only_the_inviter_can_delete_it_others_get_404(self, cast, api):
        code = api(cast.unpaired).post("/api/v1/couple/invites").json()["code"]
        assert api(cast.other).delete(f"/api/v1/couple/invites/{code}").status_code == 404
        assert api(cast.unpaired).delete(f"/api/v1/couple/invites/{code}").status_code == 204
        joiner = UserFactory()
        joined = api(joiner).post("/api/v1/couple/join", {"code": code}, format="json")
        assert joined.status_code == 400

    def test_deleting_an_accepted_invite_is_a_conflict(self, cast, api):
        code = api(cast.unpaired).post("/api/v1/couple/invites").json()["code"]
        api(UserFactory()).post("/api/v1/couple/join", {"code": code}, format="json")
        assert api(cast.unpaired).delete(f"/api/v1/couple/invites/{code}").status_code == 409


class TestJoin:
    def test_join_returns_201_with_the_couple(self, cast, api):
        code = api(cast.unpaired).post("/api/v1/couple/invites").json()["code"]
        joiner = UserFactory(display_name="Jo")
        response = api(joiner).post("/api/v1/couple/join", {"code": code}, format="json")
        assert response.status_code == 201
        assert response.json()["partner"]["display_name"] == "Ash"
        # and the inviter sees the joiner straight away
        assert api(cast.unpaired).get("/api/v1/couple").json()["partner"]["display_name"] == "Jo"

    @pytest.mark.parametrize("case", ["unknown", "expired", "used", "own", "empty"])
    def test_bad_codes_get_400(self, cast, api, case):
        invite = services.invite_create(user=cast.unpaired)
        code = invite.code
        joiner = UserFactory()
        if case == "unknown":
            code = "ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ"
        elif case == "expired":
            invite.expires_at = invite.created_at
            invite.save()
        elif case == "used":
            services.invite_accept(user=UserFactory(), code=code)
        elif case == "own":
            joiner = cast.unpaired
        elif case == "empty":
            code = "--"
        response = api(joiner).post("/api/v1/couple/join", {"code": code}, format="json")
        assert response.status_code == 400
        assert "code" in response.json()

    def test_an_already_paired_person_gets_409(self, cast, api):
        invite = services.invite_create(user=cast.unpaired)
        response = api(cast.author).post(
            "/api/v1/couple/join", {"code": invite.code}, format="json"
        )
        assert response.status_code == 409

    def test_join_is_throttled(self, cast, api):
        client = api(UserFactory())
        statuses = [
            client.post("/api/v1/couple/join", {"code": f"NOPE{i}"}, format="json").status_code
            for i in range(21)
        ]
        assert statuses[-1] == 429
        assert set(statuses[:-1]) == {400}


class TestCoupleApi:
    def test_unpaired_gets_404(self, cast, api):
        assert api(cast.unpaired).get("/api/v1/couple").status_code == 404
        assert api(cast.unpaired).patch("/api/v1/couple", {}, format="json").status_code == 404
        assert api(cast.unpaired).delete("/api/v1/couple").status_code == 404

    def test_patch_sets_the_couple_time_zone_for_both(self, cast, api):
        response = api(cast.partner).patch(
            "/api/v1/couple", {"timezone": "Pacific/Auckland"}, format="json"
        )
        assert response.status_code == 200
        assert response.json()["timezone"] == "Pacific/Auckland"
        assert api(cast.author).get("/api/v1/couple").json()["timezone"] == "Pacific/Auckland"

    def test_patch_with_a_bad_zone_gets_400(self, cast, api):
        response = api(cast.partner).patch("/api/v1/couple", {"timezone": "X/Y"}, format="json")
        assert response.status_code == 400
        assert "timezone" in response.json()

    def test_delete_unpairs_both_on_the_very_next_request(self, cast, api):
        author, partner = api(cast.author), api(cast.partner)
        assert partner.delete("/api/v1/couple").status_code == 204
        assert author.get("/api/v1/couple").status_code == 404
        assert author.get("/api/v1/me").json()["couple"] is None
        assert Couple.objects.active().filter(pk=cast.couple.pk).count() == 0

    def test_responses_are_never_cached(self, cast, api):
        response = api(cast.author).get("/api/v1/couple")
        assert response["Cache-Control"] == "no-store"

    def test_an_unknown_api_path_is_a_json_404(self, cast, api):
        response = api(cast.author).get("/api/v1/nothing-here")
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found."}
