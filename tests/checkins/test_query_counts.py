"""The dashboard and the check-in lists cost a fixed number of queries whatever the
length of the couple's history (3 days or 1,000)."""

import pytest

from checkins.services import checkin_submit
from tests.checkins.helpers import make_history
from tests.queries import assert_queries_do_not_grow, capture_queries

pytestmark = pytest.mark.django_db

# Budgets include authentication (session + user: 2, or the API token with its user in
# one query: 1 — knox's own class took 3, nuzzle.lib.auth takes 1) and the couple
# context (1). The rest: check-ins, their answers, their responses (3), plus the
# showed-up aggregate or the pagination count (1); the dashboard adds today's question
# with its answers and reactions in one query (was 3) and love-map freshness in one
# (was 2). Lowered when the web endpoints were tuned (docs/performance.md, bench/web.py).
PAGES = {
    "/": 9,
    "/history/": 7,
    "/api/v1/dashboard": 8,
    "/api/v1/checkins": 6,
    "/api/v1/checkins/today": 5,
}


def page_queries(client, path):
    queries = capture_queries(lambda: client.get(path))
    assert queries.result.status_code == 200, path
    return queries


@pytest.fixture
def history_of(cast):
    def build(days):
        make_history(author=cast.author, partner=cast.partner, couple=cast.couple, days=days)
        checkin_submit(user=cast.author, mood=4)
        checkin_submit(user=cast.partner, mood=3)

    return build


@pytest.mark.parametrize("days", [3, 1000])
@pytest.mark.parametrize("path", list(PAGES))
def test_pages_stay_within_a_fixed_query_budget(client, api, cast, history_of, path, days):
    history_of(days)
    if path.startswith("/api/"):
        http = api(cast.author)
    else:
        client.force_login(cast.author)
        http = client
    page_queries(http, path)  # warm-up: the session/token refresh writes once
    assert len(page_queries(http, path)) <= PAGES[path]


@pytest.mark.parametrize("path", list(PAGES))
def test_the_count_is_the_same_for_three_and_a_thousand_days(client, cast, history_of, path):
    from checkins.models import Checkin
    from tests.conftest import token_client

    def measure():
        if path.startswith("/api/"):
            http = token_client(cast.author)
        else:
            http = client
            http.force_login(cast.author)
        page_queries(http, path)  # warm-up
        return page_queries(http, path)

    def grow():
        Checkin.objects.all().delete()
        history_of(1000)

    history_of(3)
    assert_queries_do_not_grow(measure, grow)
