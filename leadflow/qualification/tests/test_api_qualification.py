"""PUT/GET /api/opportunities/{id}/qualification: SCOTSMAN and BANT scorecards with
history, the gate count, Advance-style work remaining, and who may score."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadflow.audit.models import AuditEvent
from leadflow.intake.tests.factories import make_opportunity
from leadflow.qualification.models import QualificationSettings, Scorecard

pytestmark = pytest.mark.django_db

SCOTSMAN = [
    "solution",
    "competition",
    "originality",
    "timescales",
    "size",
    "money",
    "authority",
    "need",
]


@pytest.fixture
def lead(inside, rep):
    return make_opportunity(inside, owner=rep, summary="20 chairs", company="Acme NV")


def path(lead) -> str:
    return f"/api/opportunities/{lead.pk}/qualification"


def scotsman(met: int) -> dict:
    return {
        "framework": "scotsman",
        "criteria": {name: i < met for i, name in enumerate(SCOTSMAN)},
    }


def test_five_of_eight_passes_the_gate(api_as, lead):
    response = api_as("rep").put(path(lead), scotsman(5))
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["met"], body["total"], body["passes_gate"], body["threshold"]) == (
        5,
        8,
        True,
        5,
    )
    assert body["framework"] == "scotsman"
    assert body["version"] == 1
    assert body["work_remaining"] == 3
    assert body["criteria"] == {
        **dict.fromkeys(SCOTSMAN[:5], "met"),
        **dict.fromkeys(SCOTSMAN[5:], "not_met"),
    }
    assert body["scored_by"] == "rep"


def test_four_of_eight_does_not_pass(api_as, lead):
    body = api_as("rep").put(path(lead), scotsman(4)).json()
    assert (body["met"], body["passes_gate"]) == (4, False)


def test_status_words_and_evidence_are_accepted(api_as, lead):
    response = api_as("rep").put(
        path(lead),
        {
            "framework": "scotsman",
            "criteria": {
                "solution": "met",
                "competition": "unknown",
                "money": "showstopper",
                "need": True,
                "size": False,
            },
            "evidence": {"money": "Budget is half our price", "need": "Old chairs"},
            "note": "first call",
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["criteria"]["solution"] == "met"
    assert body["criteria"]["competition"] == "unknown"
    assert body["criteria"]["money"] == "showstopper"
    assert body["criteria"]["size"] == "not_met"
    assert body["criteria"]["authority"] == "unknown"  # not sent: unknown
    assert body["met"] == 2
    # 0 per met, 1 per unknown/not met, 10 per showstopper (lower is better)
    assert body["work_remaining"] == 0 + 1 + 1 + 1 + 10 + 1 + 1 + 0
    assert body["evidence"] == {
        "money": "Budget is half our price",
        "need": "Old chairs",
    }
    assert body["note"] == "first call"


def test_a_re_score_is_a_new_version_that_keeps_earlier_answers(api_as, lead):
    api = api_as("rep")
    api.put(path(lead), scotsman(4))
    response = api.put(
        path(lead),
        {
            "framework": "scotsman",
            "criteria": {"money": True},
            "evidence": {"money": "approved"},
        },
    )
    body = response.json()
    assert (body["version"], body["met"], body["passes_gate"]) == (2, 5, True)
    assert body["criteria"]["solution"] == "met"
    assert list(
        Scorecard.objects.filter(opportunity=lead).values_list("version", "met")
    ) == [(2, 5), (1, 4)]
    assert (
        AuditEvent.objects.filter(event_type="opportunity.qualified_scored").count()
        == 2
    )


def test_the_threshold_is_the_administrators(api_as, lead):
    QualificationSettings.objects.update_or_create(
        pk=1, defaults={"scotsman_threshold": 6}
    )
    body = api_as("rep").put(path(lead), scotsman(5)).json()
    assert (body["threshold"], body["passes_gate"]) == (6, False)


def test_a_showstopper_can_block_the_gate(api_as, lead):
    QualificationSettings.objects.update_or_create(
        pk=1, defaults={"block_on_showstopper": True}
    )
    body = scotsman(7)
    body["criteria"]["need"] = "showstopper"
    result = api_as("rep").put(path(lead), body).json()
    assert (result["met"], result["passes_gate"]) == (7, False)


def test_bant_is_scored_separately(api_as, lead):
    api = api_as("rep")
    response = api.put(
        path(lead),
        {
            "framework": "bant",
            "criteria": {"budget": True, "authority": True, "need": True},
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["framework"], body["met"], body["total"], body["passes_gate"]) == (
        "bant",
        3,
        4,
        True,
    )
    assert body["criteria"]["timeline"] == "unknown"
    # BANT does not open the quote gate
    response = api.post(
        f"/api/opportunities/{lead.pk}/quotes",
        {"lines": [{"description": "x", "quantity": 1, "unit_price": 1}]},
    )
    assert response.status_code == 409
    assert response.json()["code"] == "gate_not_passed"


def test_the_current_scorecard_is_read_back(api_as, lead):
    api = api_as("rep")
    assert api.get(path(lead)).status_code == 404
    api.put(path(lead), scotsman(3))
    api.put(path(lead), scotsman(6))
    body = api.get(path(lead)).json()
    assert (body["version"], body["met"]) == (2, 6)
    assert api.get(path(lead), {"framework": "bant"}).status_code == 404
    bad = api.get(path(lead), {"framework": "meddic"})
    assert bad.status_code == 422
    detail = api.get(f"/api/opportunities/{lead.pk}").json()
    assert [(c["framework"], c["version"], c["met"]) for c in detail["scorecards"]] == [
        ("scotsman", 2, 6)
    ]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"framework": "meddic", "criteria": {}}, "invalid_framework"),
        ({"framework": "scotsman", "criteria": {"budget": True}}, "invalid_criterion"),
        ({"framework": "bant", "criteria": {"solution": True}}, "invalid_criterion"),
        ({"framework": "scotsman", "criteria": {"need": "maybe"}}, "invalid_input"),
        ({"framework": "scotsman", "criteria": {"need": 1}}, "invalid_input"),
        ({"framework": "scotsman", "criteria": {"need": None}}, "invalid_input"),
        ({"framework": "scotsman", "criteria": ["need"]}, "invalid_input"),
        ({"framework": "scotsman"}, "invalid_input"),
        ({"criteria": {"need": True}}, "invalid_input"),
        (
            {"framework": "scotsman", "criteria": {"need": True}, "note": "x" * 2001},
            "invalid_input",
        ),
        (
            {
                "framework": "scotsman",
                "criteria": {"need": True},
                "evidence": {"need": "x" * 2001},
            },
            "invalid_input",
        ),
        (
            {"framework": "scotsman", "criteria": {f"c{i}": True for i in range(50)}},
            "invalid_input",
        ),
    ],
)
def test_invalid_scorecards_are_422_and_store_nothing(api_as, lead, body, code):
    response = api_as("rep").put(path(lead), body)
    assert response.status_code == 422, response.content
    assert response.json()["code"] == code
    assert not Scorecard.objects.exists()


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("rep", 200),
        ("inside", 200),
        ("director", 200),
        ("admin", 200),
        ("outsider", 404),
        ("marketer", 404),
        ("colleague", 404),
    ],
)
def test_who_may_score(api_as, lead, persona, status):
    response = api_as(persona).put(path(lead), scotsman(5))
    assert response.status_code == status
    assert Scorecard.objects.exists() is (status == 200)


def test_an_outsider_cannot_read_the_scorecard(api_as, lead):
    api_as("rep").put(path(lead), scotsman(5))
    response = api_as("outsider").get(path(lead))
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found"}


def test_a_closed_lead_cannot_be_re_scored(api_as, lead):
    api = api_as("rep")
    api.post(f"/api/opportunities/{lead.pk}/close", {"result": "lost", "reason": "x"})
    response = api.put(path(lead), scotsman(5))
    assert response.status_code == 409


FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
values = st.one_of(
    st.booleans(),
    st.none(),
    st.integers(),
    st.sampled_from(["met", "unknown", "not_met", "showstopper", "MET", ""]),
    st.text(alphabet=st.characters(blacklist_characters="\x00"), max_size=30),
)
names = st.one_of(
    st.sampled_from([*SCOTSMAN, "budget", "timeline"]),
    st.text(alphabet=st.characters(blacklist_characters="\x00"), max_size=30),
)
card = st.fixed_dictionaries(
    {
        "framework": st.sampled_from(["scotsman", "bant", "SCOTSMAN", "", "x"]),
        "criteria": st.one_of(st.dictionaries(names, values, max_size=10), values),
    },
    optional={
        "evidence": st.one_of(st.dictionaries(names, values, max_size=4), values),
        "note": values,
    },
)


@FUZZ
@given(body=card)
def test_random_scorecards_never_answer_5xx(api_as, lead, body):
    response = api_as("rep").put(path(lead), body)
    assert response.status_code in (200, 400, 422), (body, response.content)
