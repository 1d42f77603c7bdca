from datetime import UTC, date, datetime, timedelta

import pytest

from checkins.models import Checkin
from checkins.selectors import checkin_list, checkin_overview, checkin_today, days_both_showed_up
from checkins.services import checkin_submit
from nuzzle.couples.services import couple_end, invite_accept, invite_create, user_update
from tests.days import at_couple_day, day_of, fresh, frozen, local_time

pytestmark = pytest.mark.django_db


def on(day, user, mood=3, visibility="shared"):
    """Check in as `user` at noon of their own local date `day`."""
    with frozen(local_time(day, user.timezone)):
        return checkin_submit(user=fresh(user), mood=mood, visibility=visibility).checkin


def on_couple_day(shared, user, mood=3, visibility="shared"):
    """Check in as `user` on their local day that belongs to the couple day `shared`."""
    return on(day_of(shared, user), user, mood=mood, visibility=visibility)


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
        with frozen(at_couple_day("2026-05-01", cast.author)):
            assert checkin_today(user=fresh(cast.author)).partner is None
        with frozen(at_couple_day("2026-05-01", cast.partner)):
            checkin_submit(user=fresh(cast.partner), mood=3, visibility="private")
        with frozen(at_couple_day("2026-05-01", cast.author)):
            assert checkin_today(user=fresh(cast.author)).partner is None
        with frozen(at_couple_day("2026-05-01", cast.partner)):
            checkin_submit(user=fresh(cast.partner), mood=3, visibility="shared")
        with frozen(at_couple_day("2026-05-01", cast.author)):
            assert checkin_today(user=fresh(cast.author)).partner is not None

    def test_the_partners_card_is_their_day_that_belongs_to_my_couple_day(self, cast):
        # 03:20 UTC on 7 December: Monday 16:20 in Auckland, Sunday 19:20 in Los Angeles.
        # Los Angeles's Sunday belongs to the couple's Monday (Auckland's dates).
        with frozen(datetime(2026, 12, 7, 3, 20, tzinfo=UTC)):
            checkin_submit(user=fresh(cast.partner), mood=4)
            checkin_submit(user=fresh(cast.author), mood=5)
            mine, theirs = (
                checkin_today(user=fresh(cast.author)),
                checkin_today(user=fresh(cast.partner)),
            )
        assert (mine.date, mine.couple_date, mine.partner_date) == (
            date(2026, 12, 7),
            date(2026, 12, 7),
            date(2026, 12, 6),
        )
        assert (theirs.date, theirs.couple_date, theirs.partner_date) == (
            date(2026, 12, 6),
            date(2026, 12, 7),
            date(2026, 12, 7),
        )
        assert (mine.mine.mood, mine.partner.mood) == (5, 4)
        assert (theirs.mine.mood, theirs.partner.mood) == (4, 5)

    def test_when_our_couple_days_differ_each_card_waits_for_its_own_day(self, cast):
        # 09:00 UTC on 7 December: Monday 22:00 in Auckland (couple day Monday), Monday
        # 01:00 in Los Angeles, whose Monday belongs to the couple's Tuesday.
        with frozen(datetime(2026, 12, 6, 20, 0, tzinfo=UTC)):  # Sunday noon in LA
            sunday = checkin_submit(user=fresh(cast.partner), mood=2).checkin
        with frozen(datetime(2026, 12, 7, 9, 0, tzinfo=UTC)):
            monday = checkin_submit(user=fresh(cast.partner), mood=4).checkin
            checkin_submit(user=fresh(cast.author), mood=5)
            mine = checkin_today(user=fresh(cast.author))
            theirs = checkin_today(user=fresh(cast.partner))
        assert (sunday.couple_date, monday.couple_date) == (date(2026, 12, 7), date(2026, 12, 8))
        assert mine.partner == sunday  # the day of theirs that belongs to my Monday
        assert mine.partner_ahead  # and they have already checked in for the next one
        assert theirs.couple_date == date(2026, 12, 8)
        assert theirs.partner is None  # my Tuesday has not begun


class TestShowedUp:
    def test_only_days_both_shared_count_this_month_and_in_all(self, cast):
        for day in ("2026-04-29", "2026-05-02", "2026-05-03"):
            on_couple_day(day, cast.author)
            on_couple_day(day, cast.partner)
        on_couple_day("2026-05-04", cast.author)  # partner missed a day: nothing resets
        on_couple_day("2026-05-05", cast.author)
        on_couple_day("2026-05-05", cast.partner, visibility="private")  # counts nowhere
        with frozen(at_couple_day("2026-05-06", cast.author)):
            counts = days_both_showed_up(user=fresh(cast.author))
        with frozen(at_couple_day("2026-05-06", cast.partner)):
            theirs = days_both_showed_up(user=fresh(cast.partner))
        assert (counts.this_month, counts.all_time) == (2, 3)
        assert theirs == counts

    def test_a_day_both_cards_show_counts_at_once_and_never_goes_down(self, cast):
        # Robin checks in on Monday 7 December in Auckland, Sam on Sunday 6 December in
        # Los Angeles: one couple day. Counted from the moment both cards show it, and
        # still counted once both have moved on (and after Sam moves to London).
        with frozen(datetime(2026, 12, 7, 3, 20, tzinfo=UTC)):
            checkin_submit(user=fresh(cast.author), mood=4)
            checkin_submit(user=fresh(cast.partner), mood=3)
            today = checkin_today(user=fresh(cast.partner))
            assert today.mine is not None
            assert today.partner is not None
            assert days_both_showed_up(user=fresh(cast.partner)).all_time == 1
            assert days_both_showed_up(user=fresh(cast.author)).all_time == 1
        user_update(user=fresh(cast.partner), timezone_name="Europe/London")
        for instant in ("2026-12-07T09:00Z", "2026-12-08T03:00Z", "2027-01-15T12:00Z"):
            with frozen(datetime.fromisoformat(instant.replace("Z", "+00:00"))):
                assert days_both_showed_up(user=fresh(cast.partner)).all_time == 1
                assert days_both_showed_up(user=fresh(cast.author)).all_time == 1

    def test_the_unpaired_have_no_count(self, cast):
        assert days_both_showed_up(user=cast.unpaired) is None


def test_the_overview_has_thirty_days_of_moods_ending_today(cast):
    on_couple_day("2026-05-09", cast.partner, mood=4, visibility="private")
    on_couple_day("2026-05-10", cast.author, mood=5)
    on_couple_day("2026-05-10", cast.partner, mood=2)
    with frozen(at_couple_day("2026-05-10", cast.author, hour=8)):
        overview = checkin_overview(user=fresh(cast.author))
    assert len(overview.moods) == 30
    assert overview.moods[-1].date == date(2026, 5, 10)
    assert overview.moods[0].date == date(2026, 5, 10) - timedelta(days=29)
    assert (overview.moods[-1].mine, overview.moods[-1].partner) == (5, 2)
    assert overview.moods[-2].partner is None  # private stays private
    assert Checkin.objects.count() == 3


def test_the_chart_puts_both_check_ins_of_a_couple_day_in_one_column_for_each_of_us(cast):
    # Sam's Sunday in Los Angeles belongs to the couple's Monday: on Robin's chart it is
    # drawn on Monday, on Sam's chart Robin's Monday is drawn on Sunday.
    with frozen(datetime(2026, 12, 7, 3, 20, tzinfo=UTC)):
        checkin_submit(user=fresh(cast.author), mood=5)
        checkin_submit(user=fresh(cast.partner), mood=2)
        robins, sams = (
            checkin_overview(user=fresh(cast.author)),
            checkin_overview(user=fresh(cast.partner)),
        )
    assert (robins.moods[-1].date, robins.moods[-1].mine, robins.moods[-1].partner) == (
        date(2026, 12, 7),
        5,
        2,
    )
    assert (sams.moods[-1].date, sams.moods[-1].mine, sams.moods[-1].partner) == (
        date(2026, 12, 6),
        2,
        5,
    )
    assert robins.showed_up.this_month == sams.showed_up.this_month == 1


def test_after_unpairing_my_ex_partners_replies_on_my_check_ins_are_gone(cast):
    from checkins.services import checkin_respond

    mine = on("2026-05-01", cast.author)
    checkin_respond(user=fresh(cast.partner), checkin_id=mine.pk, text="old words")
    assert [r.text for r in checkin_list(user=fresh(cast.author)).get(pk=mine.pk).responses.all()]
    couple_end(user=cast.author)
    invite_accept(user=cast.unpaired, code=invite_create(user=fresh(cast.author)).code)
    still_mine = checkin_list(user=fresh(cast.author)).get(pk=mine.pk)
    assert list(still_mine.responses.all()) == []
