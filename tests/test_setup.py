import pytest
from django.core.management import call_command

from checkins.models import Checkin
from nuzzle.couples.models import User
from nuzzle.couples.scoping import couple_context
from nuzzle.dashboard.demo import DEMO_PASSWORD
from prompts.models import Prompt

pytestmark = pytest.mark.django_db


def test_first_run_setup_is_idempotent_and_makes_a_demo_couple_with_history():
    call_command("nuzzle_setup")
    prompts, checkins = Prompt.objects.count(), Checkin.objects.count()
    call_command("nuzzle_setup")
    assert (Prompt.objects.count(), Checkin.objects.count()) == (prompts, checkins)
    sam = User.objects.get(email="sam@example.com")
    assert sam.check_password(DEMO_PASSWORD)
    assert couple_context(sam).partner.email == "alex@example.com"
    assert checkins > 30


def test_setup_without_the_demo_creates_no_people():
    call_command("nuzzle_setup", "--no-demo")
    assert not User.objects.exists()
    assert Prompt.objects.exists()
