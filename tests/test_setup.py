import tomllib
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.management import call_command

from checkins.models import Checkin, CheckinAnswer
from nuzzle.couples.models import Invite, Membership, User
from nuzzle.couples.scoping import couple_context
from nuzzle.dashboard.demo import DEMO_ANSWERS, DEMO_PASSWORD, DEMO_PEOPLE
from prompts.models import Prompt

pytestmark = pytest.mark.django_db


def demo_people() -> list[User]:
    return [User.objects.get(email=email) for email, _, _ in DEMO_PEOPLE]


def test_first_run_setup_is_idempotent_and_makes_a_demo_couple_with_history():
    call_command("nuzzle_setup")
    prompts, checkins = Prompt.objects.count(), Checkin.objects.count()
    answers, couple = CheckinAnswer.objects.count(), couple_context(demo_people()[0]).couple
    call_command("nuzzle_setup")
    assert (Prompt.objects.count(), Checkin.objects.count()) == (prompts, checkins)
    assert CheckinAnswer.objects.count() == answers
    sam = User.objects.get(email="sam@example.com")
    assert sam.check_password(DEMO_PASSWORD)
    assert couple_context(sam).partner.email == "alex@example.com"
    assert couple_context(sam).couple.created_at == couple.created_at
    assert checkins > 30


def test_setup_without_the_demo_creates_no_people():
    call_command("nuzzle_setup", "--no-demo")
    assert not User.objects.exists()
    assert Prompt.objects.exists()


def test_the_demo_couple_was_together_before_its_first_check_in():
    call_command("nuzzle_setup")
    people = demo_people()
    couple = couple_context(people[0]).couple
    zone = ZoneInfo(people[0].timezone)
    first_checkin = min(
        Checkin.objects.filter(author__in=people).values_list("local_date", flat=True)
    )

    def day(at):
        return at.astimezone(zone).date()

    assert day(couple.created_at) < first_checkin
    for membership in Membership.objects.filter(couple=couple):
        assert day(membership.user.date_joined) <= day(membership.joined_at)
        assert day(membership.joined_at) == day(couple.created_at)
    invite = Invite.objects.get(couple=couple)
    assert invite.created_at <= invite.accepted_at <= couple.created_at < invite.expires_at
    for checkin in Checkin.objects.filter(author__in=people):
        assert day(checkin.created_at) == checkin.local_date


def test_the_demo_check_ins_have_varied_energy():
    call_command("nuzzle_setup")
    for person in demo_people():
        energies = list(Checkin.objects.filter(author=person).values_list("energy", flat=True))
        assert len({energy for energy in energies if energy is not None}) >= 3, energies


def test_every_demo_answer_was_written_for_the_question_it_answers():
    call_command("nuzzle_setup")
    sam, alex = demo_people()
    answers = CheckinAnswer.objects.filter(checkin__author__in=[sam, alex]).select_related(
        "prompt", "checkin"
    )
    assert answers.count() > 10
    for answer in answers:
        written = DEMO_ANSWERS[answer.prompt.key][0 if answer.checkin.author_id == sam.pk else 1]
        assert answer.text == written, (answer.prompt.text, answer.text)
    assert len({answer.prompt_id for answer in answers}) > 5  # not one question over and over


def test_the_demo_answers_name_only_check_in_questions_of_the_bundled_bank():
    with open(settings.BASE_DIR / "prompts" / "bank" / "checkin.toml", "rb") as bank:
        keys = {prompt["key"] for prompt in tomllib.load(bank)["prompt"]}
    assert set(DEMO_ANSWERS) <= keys
