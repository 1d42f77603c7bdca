import pytest
from django.core.management import call_command

from nuzzle.couples.models import User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_curator_add_creates_a_staff_curator_without_a_password():
    call_command("curator_add", "Cura@Example.com")
    user = User.objects.get(email="cura@example.com")
    assert user.is_staff
    assert not user.is_superuser
    assert not user.has_usable_password()
    assert list(user.groups.values_list("name", flat=True)) == ["curator"]


def test_curator_add_promotes_an_existing_account_once():
    existing = UserFactory(email="kim@example.com")
    call_command("curator_add", "kim@example.com")
    call_command("curator_add", "kim@example.com")
    existing.refresh_from_db()
    assert existing.is_staff
    assert existing.groups.count() == 1
    assert existing.check_password("a calm evening 42")
