def test_me_answers_for_a_paired_person(cast, api):
    response = api(cast.author).get("/api/v1/me")
    assert response.status_code == 200
    assert response.json()["couple"]["partner"]["display_name"] == "Sam"
