"""What a person reads when sign-up, an account change or deleting the account is
refused by the services: on the page, each message on its field, and in the API, the
same messages under the same keys, in the same order."""

import pytest
from django.core.exceptions import ValidationError

from nuzzle.couples.models import Couple, User
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

TAKEN = "An account with this email already exists. Try logging in."
TOO_SIMILAR = "The password is too similar to the email address."
NOT_YOURS = "That is not your password."


def signup_fields(**overrides):
    fields = {
        "display_name": "Robin",
        "email": "robin@example.com",
        "password": "a calm evening 42",
        "timezone": "Europe/Berlin",
    }
    fields.update(overrides)
    return fields


def refuse_robin(value):
    """A rule only the model knows (the form and the API's fields let the name through)."""
    if value.startswith("Robin"):
        raise ValidationError(["Not this name.", "Nor one like it."])


@pytest.fixture
def names_refused_by_the_model(monkeypatch):
    field = User._meta.get_field("display_name")
    monkeypatch.setattr(field, "validators", [*field.validators, refuse_robin])


def test_a_taken_email_and_a_password_like_it_are_both_named_in_order_in_the_api(api):
    UserFactory(email="robin@example.com")
    body = signup_fields(email="Robin@Example.com", password="robin-example")
    response = api().post("/api/v1/auth/signup", body, format="json")
    assert response.status_code == 400
    assert list(response.json().items()) == [("email", [TAKEN]), ("password", [TOO_SIMILAR])]
    assert User.objects.count() == 1


def test_on_the_sign_up_page_a_password_like_the_email_is_explained_on_its_field(client):
    response = client.post("/signup/", signup_fields(password="robin-example"))
    assert response.status_code == 200
    assert response.context["form"].errors == {"password": [TOO_SIMILAR]}
    assert TOO_SIMILAR in response.content.decode()
    assert not User.objects.exists()


def test_a_name_the_model_refuses_is_every_message_on_its_field_on_the_account_page(
    client, cast, names_refused_by_the_model
):
    client.force_login(cast.author)
    response = client.post(
        "/account/", {"display_name": "Robin Two", "timezone": cast.author.timezone}
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "display_name": ["Not this name.", "Nor one like it."]
    }
    cast.author.refresh_from_db()
    assert cast.author.display_name == "Robin"


def test_a_name_the_model_refuses_is_every_message_under_its_key_in_the_api(
    api, cast, names_refused_by_the_model
):
    response = api(cast.author).patch("/api/v1/me", {"display_name": "Robin Two"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"display_name": ["Not this name.", "Nor one like it."]}
    cast.author.refresh_from_db()
    assert cast.author.display_name == "Robin"


def test_a_wrong_password_is_said_on_its_field_on_the_page_and_under_its_key_in_the_api(
    client, api, cast
):
    client.force_login(cast.author)
    page = client.post("/account/delete/", {"password": "not it"})
    assert page.status_code == 200
    assert page.context["form"].errors == {"password": [NOT_YOURS]}
    response = api(cast.author).delete("/api/v1/me", {"password": "not it"}, format="json")
    assert (response.status_code, response.json()) == (400, {"password": [NOT_YOURS]})
    assert User.objects.filter(pk=cast.author.pk).exists()
    assert client.post("/account/delete/", {"password": PASSWORD}).status_code == 302


def test_a_shared_zone_the_model_refuses_is_explained_on_its_field(client, cast, monkeypatch):
    def refuse(value):
        raise ValidationError("Not this zone.")

    field = Couple._meta.get_field("timezone")
    monkeypatch.setattr(field, "validators", [refuse])
    client.force_login(cast.author)
    response = client.post("/couple/", {"timezone": "Europe/Berlin"})
    assert response.status_code == 200
    assert response.context["form"].errors == {"timezone": ["Not this zone."]}
    cast.couple.refresh_from_db()
    assert cast.couple.timezone != "Europe/Berlin"
