from datetime import date, timedelta

import pytest
import time_machine

from checkins.models import Checkin
from checkins.selectors import checkin_list, checkin_overview, checkin_today, days_both_showed_up
from checkins.services import checkin_submit
from nuzzle.couples.models import User
from nuzzle.couples.services import couple_end, invite_accept, invite_create

pytestmark = pytest.mark.django_db


def fresh(user):
    return User.objects.get(pk=user.pk)


def on(day: str, user, mood=3, visibility="shared"):
    """Check in as `user` at noon UTC of `day` (their zone is Europe/London here)."""
    with time_machine.travel(f"{day} 12:00:00Z", tick=False):
        return checkin_submit(user=fresh(user), mood=mood, visibility=visibility).checkin


class TestVisibility:
    def test_i_see_all_of_mine_and_only_what_my_partner_shared(self, cast):
        on("2026-05-01", cast.author, visibility="private")
        on("2026-05-02", cast.author)
        shared = on("2026-05-01", cast.partner)
        on("2026-05-02", cast.partner, visibility="private")
        on("2026-05-01", cast.other)
        mine = {c.pk for c in checkin_list(user=cast.author) if c.author_id == cast.author.pk}
        theirs = [c.pk for c in checkin_list(user=cast.author) if c.author_id != cast.author.pk]
        assert len(mine) == 2
        assert theirs == [shared.pk]

    def test_strangers_and_the_unpaired_see_nothing_of_ours(self, cast):
        on("2026-05-01", cast.author)
        on("2026-05-01", cast.partner)
        assert not checkin_list(user=cast.other).exists()
        assert not checkin_list(user=cast.unpaired).exists()

    def test_after_unpairing_and_repairing_the_old_partners_check_ins_are_gone(self, cast):
        on("2026-05-01", cast.partner)
        couple_end(user=cast.author)
        invite_accept(user=cast.unpaired, code=invite_create(user=fresh(cast.author)).code)
        assert not checkin_list(user=fresh(cast.author)).exclude(author=cast.author).exists()
        # and the new partner sees none of the author's old couple's content from the partner
        assert not checkin_list(user=fresh(cast.unpaired)).exclude(author=cast.unpaired).exists()

    def test_dates_filter_the_list(self, cast):
        for day in ("2026-05-01", "2026-05-02", "2026-05-03"):
            on(day, cast.author)
        dates = [
            c.local_date
            for c in checkin_list(
                user=cast.author, date_from=date(2026, 5, 2), date_to=date(2026, 5, 2)
            )
        ]
        assert dates == [date(2026, 5, 2)]


class TestToday:
    def test_partner_today_is_null_unless_they_shared_today(self, cast):
        with time_machine.travel("2026-05-01 12:00:00Z", tick=False):
            assert checkin_today(user=fresh(cast.author)).partner is None
            checkin_submit(user=fresh(cast.partner), mood=3, visibility="private")
            assert checkin_today(user=fresh(cast.author)).partner is None
            checkin_submit(user=fresh(cast.partner), mood=3, visibility="shared")
            assert checkin_today(user=fresh(cast.author)).partner is not None

    def test_each_partner_is_shown_for_their_own_local_today(self, cast):
        cast.author.timezone = "Asia/Tokyo"
        cast.author.save()
        cast.partner.timezone = "America/New_York"
        cast.partner.save()
        # 20:00 UTC: Saturday 05:00 in Tokyo, Friday 16:00 in New York.
        with time_machine.travel("2026-05-01 20:00:00Z", tick=False):
            checkin_submit(user=fresh(cast.partner), mood=4)
            today = checkin_today(user=fresh(cast.author))
        assert today.date == date(2026, 5, 2)
        assert today.partner_date == date(2026, 5, 1)
        assert today.partner is not None
        assert today.partner.mood == 4


class TestShowedUp:
    def test_only_days_both_shared_count_this_month_and_in_all(self, cast):
        for day in ("2026-04-29", "2026-05-02", "2026-05-03"):
            on(day, cast.author)
            on(day, cast.partner)
        on("2026-05-04", cast.author)  # partner missed a day: nothing resets
        on("2026-05-05", cast.author)
        on("2026-05-05", cast.partner, visibility="private")  # private counts nowhere
        with time_machine.travel("2026-05-06 12:00:00Z", tick=False):
            counts = days_both_showed_up(user=fresh(cast.author))
        assert (counts.this_month, counts.all_time) == (2, 3)

    def test_the_unpaired_have_no_count(self, cast):
        assert days_both_showed_up(user=cast.unpaired) is None


def test_the_overview_has_thirty_days_of_moods_ending_today(cast):
    on("2026-05-10", cast.author, mood=5)
    on("2026-05-10", cast.partner, mood=2)
    on("2026-05-09", cast.partner, mood=4, visibility="private")
    with time_machine.travel("2026-05-10 18:00:00Z", tick=False):
        overview = checkin_overview(user=fresh(cast.author))
    assert len(overview.moods) == 30
    assert overview.moods[-1].date == date(2026, 5, 10)
    assert overview.moods[0].date == date(2026, 5, 10) - timedelta(days=29)
    assert (overview.moods[-1].mine, overview.moods[-1].partner) == (5, 2)
    assert overview.moods[-2].partner is None  # private stays private
    assert Checkin.objects.count() == 3


def test_after_unpairing_my_ex_partners_replies_on_my_check_ins_are_gone(cast):
    from checkins.services import checkin_respond

    mine = on("2026-05-01", cast.author)
    checkin_respond(user=fresh(cast.partner), checkin_id=mine.pk, text="old words")
    assert [r.text for r in checkin_list(user=fresh(cast.author)).get(pk=mine.pk).responses.all()]
    couple_end(user=cast.author)
    invite_accept(user=cast.unpaired, code=invite_create(user=fresh(cast.author)).code)
    still_mine = checkin_list(user=fresh(cast.author)).get(pk=mine.pk)
    assert list(still_mine.responses.all()) == []
