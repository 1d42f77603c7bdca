import pytest

from lovemaps.services import lovemap_answer, lovemap_reveal
from nuzzle.couples.models import User
from tests.queries import assert_queries_do_not_grow, capture_queries

pytestmark = pytest.mark.django_db


class TestApi:
    def test_answer_reveal_with_a_guess_rate_and_freshness(self, api, cast, topics):
        author, partner = api(cast.author), api(cast.partner)
        topic = topics[0]
        put = author.put(f"/api/v1/lovemap/mine/{topic.pk}", {"answer": "Gardening"}, format="json")
        assert put.status_code == 200
        assert put.json()["version"] == 1
        assert put.json()["stale"] is False
        listed = partner.get("/api/v1/lovemap/partner").json()
        assert listed[0]["status"] == "unseen"
        assert listed[0]["answer"] is None
        revealed = partner.post(
            f"/api/v1/lovemap/partner/{topic.pk}/reveal", {"guess": "Baking"}, format="json"
        )
        assert revealed.status_code == 200
        assert revealed.json()["answer"] == "Gardening"
        guess_id = revealed.json()["guess"]["id"]
        assert partner.get("/api/v1/lovemap/partner").json()[0]["status"] == "current"
        assert (
            partner.post(
                f"/api/v1/lovemap/guesses/{guess_id}/rating", {"rating": "close"}, format="json"
            ).status_code
            == 404
        )
        rated = author.post(
            f"/api/v1/lovemap/guesses/{guess_id}/rating", {"rating": "close"}, format="json"
        )
        assert rated.json()["rating"] == "close"
        fresh = partner.get("/api/v1/lovemap/freshness").json()
        assert fresh["partner"] == {"current": 1, "changed": 0, "unseen": 0}
        assert {d["domain"] for d in fresh["domains"]} >= {"people", "body"}
        confirm = author.post(f"/api/v1/lovemap/mine/{topic.pk}/confirm")
        assert confirm.status_code == 200
        assert author.get("/api/v1/lovemap/mine").json()[0]["guesses"][0]["rating"] == "close"

    def test_topics_are_paginated(self, api, cast, topics):
        body = api(cast.author).get("/api/v1/lovemap/topics?page_size=5").json()
        assert body["count"] == len(topics)
        assert len(body["results"]) == 5
        assert set(body["results"][0]) == {"id", "text", "domain", "half_life_days"}

    @pytest.mark.parametrize("who", ["other", "unpaired"])
    def test_another_couples_topics_and_guesses_are_404(self, api, cast, topics, who):
        lovemap_answer(user=cast.author, topic_id=topics[0].pk, text="ours")
        client = api(getattr(cast, who))
        reveal = client.post(f"/api/v1/lovemap/partner/{topics[0].pk}/reveal", {}, format="json")
        assert reveal.status_code == 404

    @pytest.mark.parametrize("body", [{}, {"answer": ""}, {"answer": "x" * 1001}, {"answer": 4}])
    def test_bad_answers_get_400(self, api, cast, topics, body):
        response = api(cast.author).put(f"/api/v1/lovemap/mine/{topics[0].pk}", body, format="json")
        assert response.status_code == 400

    def test_confirming_an_unanswered_topic_is_404(self, api, cast, topics):
        assert (
            api(cast.author).post(f"/api/v1/lovemap/mine/{topics[0].pk}/confirm").status_code == 404
        )


def fill(cast, topics, count):
    for topic in topics[:count]:
        lovemap_answer(user=cast.author, topic_id=topic.pk, text=f"about {topic.key}")
        lovemap_answer(user=cast.partner, topic_id=topic.pk, text=f"mine {topic.key}")
    partner = User.objects.get(pk=cast.partner.pk)
    for topic in topics[: count // 2]:
        lovemap_reveal(user=partner, topic_id=topic.pk, guess="a guess")


PAGES = [
    "/lovemap/",
    "/lovemap/mine/",
    "/lovemap/partner/",
    "/api/v1/lovemap/mine",
    "/api/v1/lovemap/partner",
    "/api/v1/lovemap/freshness",
    "/",
]


@pytest.mark.parametrize("path", PAGES)
def test_love_map_pages_cost_the_same_with_10_or_120_topics_answered(client, cast, topics, path):
    from lovemaps.models import LovemapEntry, LovemapReveal
    from tests.conftest import token_client

    def measure():
        if path.startswith("/api/"):
            http = token_client(cast.partner)
        else:
            http = client
            http.force_login(cast.partner)
        http.get(path)  # warm-up
        queries = capture_queries(lambda: http.get(path))
        assert queries.result.status_code == 200
        return queries

    def grow():
        LovemapReveal.objects.all().delete()
        LovemapEntry.objects.all().delete()
        fill(cast, topics, 120)

    fill(cast, topics, 10)
    assert_queries_do_not_grow(measure, grow)
