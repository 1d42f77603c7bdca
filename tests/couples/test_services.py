from datetime import timedelta

import pytest
import time_machine
from django.db import IntegrityError, transaction
from django.utils import timezone
from knox.models import AuthToken

from nuzzle.couples import selectors, services
from nuzzle.couples.models import Couple, Invite, Membership, User, normalize_invite_code
from nuzzle.couples.scoping import couple_context, forget_couple_context
from nuzzle.lib.errors import Conflict, Invalid, NotFound
from tests.factories import UserFactory, couple_of, new_invite
from tests.queries import assert_num_queries

pytestmark = pytest.mark.django_db


def fresh(user: User) -> User:
    """The same person as a new request would see them (no cached couple)."""
    return User.objects.get(pk=user.pk)


class TestSignup:
    def test_it_creates_a_person_with_a_lowercased_email(self):
        user = services.user_signup(
            email="  Robin@Example.COM ",
            password="a calm evening 42",
            display_name="Robin",
            timezone_name="Europe/Berlin",
        )
        assert user.email == "robin@example.com"
        assert user.check_password("a calm evening 42")
        assert user.timezone == "Europe/Berlin"

    def test_it_refuses_an_email_that_exists_in_another_case(self):
        UserFactory(email="robin@example.com")
        with pytest.raises(Invalid) as caught:
            services.user_signup(
                email="ROBIN@example.com",
                password="a calm evening 42",
                display_name="Robin",
                timezone_name="UTC",
            )
        assert "email" in caught.value.by_field()

    def test_it_reports_every_bad_field_at_once_and_stores_nothing(self):
        with pytest.raises(Invalid) as caught:
            services.user_signup(
                email="not-an-email",
                password="123",
                display_name="",
                timezone_name="Mars/Olympus_Mons",
            )
        assert set(caught.value.by_field()) == {"email", "password", "display_name", "timezone"}
        assert User.objects.count() == 0


class TestInvites:
    def test_an_invite_is_valid_for_seven_days_to_the_second(self):
        inviter = UserFactory()
        with time_machine.travel("2026-03-01 12:00:00Z", tick=False):
            invite = services.invite_create(user=inviter)
        assert invite.expires_at == invite.created_at + timedelta(days=7)
        just_before = invite.expires_at - timedelta(seconds=1)
        assert invite.status_at(just_before) is Invite.Status.PENDING
        assert invite.status_at(invite.expires_at) is Invite.Status.EXPIRED

    def test_codes_are_long_random_and_distinct(self):
        codes = {services.invite_create(user=UserFactory()).code for _ in range(50)}
        assert len(codes) == 50
        assert all(len(code) == 20 for code in codes)

    def test_a_new_invite_replaces_the_previous_one(self):
        inviter = UserFactory()
        first = services.invite_create(user=inviter)
        second = services.invite_create(user=inviter)
        first.refresh_from_db()
        assert first.revoked_at is not None
        assert selectors.invite_pending_for(user=inviter) == second

    def test_a_paired_person_cannot_invite(self, cast):
        with pytest.raises(Conflict):
            services.invite_create(user=cast.author)

    def test_the_database_refuses_a_second_live_invite_for_one_person(self):
        inviter = UserFactory()
        new_invite(inviter=inviter, accepted_at=timezone.now())  # used: no matter
        new_invite(inviter=inviter, revoked_at=timezone.now())  # withdrawn: neither
        new_invite(inviter=inviter)
        with pytest.raises(IntegrityError), transaction.atomic():
            new_invite(inviter=inviter)
        assert Invite.objects.filter(inviter=inviter).count() == 3

    def test_someone_paired_a_moment_ago_cannot_invite_even_from_an_older_request(self):
        inviter, joiner = UserFactory(), UserFactory()
        stale = User.objects.get(pk=joiner.pk)
        assert couple_context(stale) is None  # what the older request read, and cached
        services.invite_accept(user=joiner, code=services.invite_create(user=inviter).code)
        with pytest.raises(Conflict):
            services.invite_create(user=stale)
        assert not Invite.objects.filter(inviter=joiner).exists()

    def test_only_the_inviter_can_revoke(self):
        invite = services.invite_create(user=UserFactory())
        with pytest.raises(NotFound):
            services.invite_revoke(user=UserFactory(), code=invite.code)
        services.invite_revoke(user=invite.inviter, code=invite.display_code)
        invite.refresh_from_db()
        assert invite.revoked_at is not None

    def test_codes_are_accepted_as_people_type_them(self):
        invite = services.invite_create(user=UserFactory())
        typed = invite.display_code.lower().replace("-", " ")
        assert normalize_invite_code(typed) == invite.code
        assert selectors.invite_get_by_code(code=typed) == invite


class TestAccept:
    def test_accepting_forms_one_couple_of_exactly_two(self):
        inviter, joiner = UserFactory(timezone="Asia/Tokyo"), UserFactory()
        invite = services.invite_create(user=inviter)
        couple = services.invite_accept(user=joiner, code=invite.display_code)
        assert set(couple.members.all()) == {inviter, joiner}
        assert couple.timezone == "Asia/Tokyo"  # the couple starts on the inviter's zone
        assert couple_context(fresh(inviter)).partner == joiner
        assert couple_context(fresh(joiner)).partner == inviter
        invite.refresh_from_db()
        assert invite.accepted_by == joiner
        assert invite.couple == couple

    @pytest.mark.parametrize(
        ("state", "message"),
        [
            ("accepted", "already been used"),
            ("revoked", "withdrawn"),
            ("expired", "expired"),
        ],
    )
    def test_used_revoked_and_expired_invites_are_refused(self, state, message):
        invite = services.invite_create(user=UserFactory())
        if state == "accepted":
            services.invite_accept(user=UserFactory(), code=invite.code)
        elif state == "revoked":
            services.invite_revoke(user=invite.inviter, code=invite.code)
        else:
            Invite.objects.filter(pk=invite.pk).update(expires_at=timezone.now())
        with pytest.raises(Invalid, match=message):
            services.invite_accept(user=UserFactory(), code=invite.code)

    def test_an_unknown_code_is_refused(self):
        with pytest.raises(Invalid, match="no invite"):
            services.invite_accept(user=UserFactory(), code="ABCD-EFGH")

    def test_you_cannot_accept_your_own_invite(self):
        invite = services.invite_create(user=UserFactory())
        with pytest.raises(Invalid, match="your own"):
            services.invite_accept(user=invite.inviter, code=invite.code)
        assert Couple.objects.count() == 0

    def test_a_paired_person_cannot_accept_and_nothing_changes(self, cast):
        invite = services.invite_create(user=cast.unpaired)
        with pytest.raises(Conflict):
            services.invite_accept(user=cast.author, code=invite.code)
        invite.refresh_from_db()
        assert invite.accepted_at is None
        assert Couple.objects.count() == 2

    def test_the_database_refuses_a_second_active_couple_for_one_person(self, cast):
        with pytest.raises(Exception, match=r"(?i)unique"):
            couple_of(cast.author, cast.unpaired)

    def test_pairing_withdraws_both_partners_other_invites(self):
        inviter, joiner = UserFactory(), UserFactory()
        joiners_own = services.invite_create(user=joiner)
        services.invite_accept(user=joiner, code=services.invite_create(user=inviter).code)
        joiners_own.refresh_from_db()
        assert joiners_own.revoked_at is not None


class TestUnpair:
    def test_unpairing_ends_the_couple_for_both_at_once(self, cast):
        services.couple_end(user=cast.partner)
        assert couple_context(fresh(cast.author)) is None
        assert couple_context(fresh(cast.partner)) is None
        cast.couple.refresh_from_db()
        assert cast.couple.ended_at is not None
        assert cast.couple.ended_by == cast.partner
        assert not Membership.objects.filter(couple=cast.couple, ended_at__isnull=True).exists()

    def test_after_unpairing_each_can_pair_with_someone_new(self, cast):
        services.couple_end(user=cast.author)
        author = fresh(cast.author)
        invite = services.invite_create(user=author)
        new_couple = services.invite_accept(user=cast.unpaired, code=invite.code)
        assert new_couple != cast.couple
        assert couple_context(fresh(author)).partner == cast.unpaired

    def test_unpairing_when_unpaired_is_not_found(self, cast):
        with pytest.raises(NotFound):
            services.couple_end(user=cast.unpaired)

    def test_the_couple_time_zone_is_validated(self, cast):
        with pytest.raises(Invalid):
            services.couple_update(user=cast.author, timezone_name="Nowhere/Special")
        services.couple_update(user=cast.author, timezone_name="Australia/Sydney")
        cast.couple.refresh_from_db()
        assert cast.couple.timezone == "Australia/Sydney"


class TestScoping:
    def test_the_couple_context_costs_one_query_and_is_cached(self, cast):
        author = fresh(cast.author)

        def twice():
            assert couple_context(author).partner == cast.partner
            assert couple_context(author).couple == cast.couple

        assert_num_queries(1, twice)
        forget_couple_context(author)
        assert_num_queries(1, lambda: couple_context(author))


class TestPasswords:
    def test_a_new_password_ends_every_api_token(self, cast):
        AuthToken.objects.create(user=cast.author)
        AuthToken.objects.create(user=cast.author)
        AuthToken.objects.create(user=cast.partner)
        cast.author.set_password("another calm evening 7")
        cast.author.save()
        assert not AuthToken.objects.filter(user=cast.author).exists()
        assert AuthToken.objects.filter(user=cast.partner).count() == 1


def test_housekeeping_removes_only_what_has_expired(cast):
    old = services.invite_create(user=cast.unpaired)
    Invite.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(days=31))
    fresh_invite = services.invite_create(user=UserFactory())
    AuthToken.objects.create(user=cast.author, expiry=timedelta(seconds=-1))
    AuthToken.objects.create(user=cast.author)
    deleted = services.housekeeping()
    assert deleted["invites"] == 1
    assert deleted["tokens"] == 1
    assert Invite.objects.filter(pk=fresh_invite.pk).exists()
    assert AuthToken.objects.filter(user=cast.author).count() == 1
