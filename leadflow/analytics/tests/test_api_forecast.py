"""GET /api/forecast (SPEC contract: {rows: [{key, weighted, unweighted, count}],
totals: {weighted, unweighted}}), snapshots over the API, access per persona."""

import pytest

from leadflow.analytics.models import ForecastSnapshot

pytestmark = pytest.mark.django_db


def test_by_month_has_the_contract_shape_and_numbers(api_as, leads):
    response = api_as("director").get("/api/forecast", {"by": "month"})
    assert response.status_code == 200
    body = response.json()
    assert set(body) >= {"rows", "totals"}
    for row in body["rows"]:
        assert {"key", "weighted", "unweighted", "count"} <= set(row)
    assert set(body["totals"]) >= {"weighted", "unweighted"}
    assert [
        (r["key"], r["count"], r["unweighted"], r["weighted"]) for r in body["rows"]
    ] == [
        ("2026-03", 3, 30000.0, 8500.0),
        ("2026-04", 1, 40000.0, 10000.0),
        ("2026-05", 1, 8000.0, 6000.0),
        ("2026-06", 1, 1000.0, 250.0),
        (None, 1, 5000.0, 4500.0),
    ]
    assert body["totals"] == {"weighted": 29250.0, "unweighted": 84000.0, "count": 7}
    assert body["snapshot"] is None and body["by"] == "month"


def test_money_is_a_json_number(api_as, leads):
    raw = api_as("director").get("/api/forecast", {"by": "service"}).content.decode()
    assert '"weighted": 8750.0' in raw and '"8750' not in raw


def test_by_service(api_as, leads):
    body = api_as("director").get("/api/forecast", {"by": "service"}).json()
    assert [(r["key"], r["weighted"]) for r in body["rows"]] == [
        ("Consulting", 4500.0),
        ("Installation", 8750.0),
        ("Maintenance", 16000.0),
        (None, 0.0),
    ]
    assert body["rows"][-1]["label"] == "No service type"


def test_month_is_the_default_grouping(api_as, leads):
    body = api_as("director").get("/api/forecast").json()
    assert body["by"] == "month" and body["rows"][0]["key"] == "2026-03"


@pytest.mark.parametrize(
    ("by", "keys"),
    [
        ("quarter", ["2026-Q1", "2026-Q2", None]),
        ("owner", ["director", "inside", "outsider", "rep"]),
        ("category", ["pipeline", "best_case", "commit"]),
    ],
)
def test_other_groupings(api_as, leads, by, keys):
    body = api_as("director").get("/api/forecast", {"by": by}).json()
    assert [r["key"] for r in body["rows"]] == keys
    assert body["totals"]["weighted"] == 29250.0


def test_by_team_keys_are_team_ids(api_as, leads, teams):
    body = api_as("director").get("/api/forecast", {"by": "team"}).json()
    assert [(r["key"], r["label"]) for r in body["rows"]] == [
        (teams["North"].pk, "North"),
        (teams["South"].pk, "South"),
        (None, "No team"),
    ]


def test_an_unknown_grouping_is_422(api_as, leads):
    response = api_as("director").get("/api/forecast", {"by": "week"})
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_grouping"
    assert "month, quarter" in response.json()["detail"]


def test_filters(api_as, leads, teams):
    api = api_as("director")

    def totals(**params):
        return api.get("/api/forecast", params).json()["totals"]

    assert totals(**{"from": "2026-03-01", "to": "2026-04-30"})["weighted"] == 18500.0
    assert totals(owner="rep")["weighted"] == 14500.0
    assert totals(team=teams["South"].pk)["weighted"] == 10000.0
    assert totals(service_type="Installation")["weighted"] == 8750.0
    assert totals(category="commit")["weighted"] == 10750.0
    assert totals(category="commit,omitted")["weighted"] == 13750.0


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"category": "maybe"}, "invalid_category"),
        ({"owner": "nobody"}, "unknown_user"),
        ({"from": "March"}, "invalid_input"),
        ({"team": "North"}, "invalid_input"),
    ],
)
def test_bad_filters_are_422(api_as, leads, params, code):
    response = api_as("director").get("/api/forecast", params)
    assert response.status_code == 422
    assert response.json()["code"] == code


def test_each_person_sees_only_their_leads(api_as, leads):
    def weighted(persona):
        return api_as(persona).get("/api/forecast").json()["totals"]["weighted"]

    assert weighted("rep") == 14750.0  # own + team North: L1 L2 L3 L9
    assert weighted("outsider") == 10000.0  # team South: L4 L5
    assert weighted("director") == 29250.0
    assert weighted("inside") == 29250.0


def test_roles_without_leads_get_403(api_as, leads):
    for persona in ("marketer", "colleague"):
        response = api_as(persona).get("/api/forecast")
        assert response.status_code == 403
        assert api_as(persona).get("/api/forecast/snapshots").status_code == 403


def test_without_a_token_401(anonymous_api):
    assert anonymous_api.get("/api/forecast").status_code == 401


def test_the_query_count_does_not_grow_with_the_leads(
    api_as, leads, django_assert_max_num_queries
):
    api = api_as("director")
    api.get("/api/forecast")  # token and calendar caches warm
    with django_assert_max_num_queries(4):
        assert api.get("/api/forecast", {"by": "owner"}).status_code == 200


# --- snapshots --------------------------------------------------------------------------


def test_a_director_takes_a_snapshot_and_reads_the_forecast_from_it(api_as, leads):
    api = api_as("director")
    response = api.post("/api/forecast/snapshots")
    assert response.status_code == 201
    snapshot = response.json()
    assert snapshot["kind"] == "manual" and snapshot["taken_by"] == "director"
    assert (snapshot["lead_count"], snapshot["weighted"]) == (8, 32250.0)
    api.patch(f"/api/opportunities/{leads.L1.pk}", {"expected_value": "50000"})
    then = api.get("/api/forecast", {"by": "month", "snapshot": snapshot["id"]})
    assert then.status_code == 200
    assert then.json()["totals"]["weighted"] == 29250.0
    assert then.json()["snapshot"]["id"] == snapshot["id"]
    now = api.get("/api/forecast", {"by": "month"}).json()
    assert now["totals"]["weighted"] == 39250.0  # + 40000 × 0.25


def test_snapshots_are_listed_newest_first(api_as, leads):
    api = api_as("admin")
    first = api.post("/api/forecast/snapshots").json()
    second = api.post("/api/forecast/snapshots").json()
    body = api.get("/api/forecast/snapshots").json()
    assert [s["id"] for s in body["items"]] == [second["id"], first["id"]]
    assert body["count"] == 2 and body["items"][0]["taken_by"] == "admin"


def test_a_salesperson_reads_snapshots_without_company_totals(api_as, leads):
    snapshot = api_as("director").post("/api/forecast/snapshots").json()
    listed = api_as("rep").get("/api/forecast/snapshots").json()["items"][0]
    assert (listed["lead_count"], listed["weighted"], listed["unweighted"]) == (
        None,
        None,
        None,
    )
    body = api_as("outsider").get("/api/forecast", {"snapshot": snapshot["id"]}).json()
    assert body["totals"]["weighted"] == 10000.0  # only team South's leads


@pytest.mark.parametrize("persona", ["rep", "outsider", "inside", "marketer"])
def test_only_directors_and_admins_take_snapshots(api_as, leads, persona):
    response = api_as(persona).post("/api/forecast/snapshots")
    assert response.status_code == 403
    assert not ForecastSnapshot.objects.exists()


def test_an_unknown_snapshot_is_404(api_as, leads):
    response = api_as("director").get("/api/forecast", {"snapshot": 999})
    assert response.status_code == 404


def test_the_forecast_is_in_the_openapi_document(api_as):
    doc = api_as("director").get("/api/openapi.json").json()
    assert "/api/forecast" in doc["paths"]
    assert "/api/forecast/snapshots" in doc["paths"]
    names = {p["name"] for p in doc["paths"]["/api/forecast"]["get"]["parameters"]}
    assert {"by", "from", "to", "owner", "team", "service_type", "category"} <= names
