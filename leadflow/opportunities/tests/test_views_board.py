"""The pipeline board: columns with counts and totals, filters, lazy columns, drag to
move with a reason, and the salesperson's 'my day' on the home page."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from leadflow.contacts.tests.factories import make_contact
from leadflow.intake.tests.factories import make_opportunity
from leadflow.opportunities.actions import (
    add_activity,
    close_opportunity,
    open_opportunity,
)
from leadflow.opportunities.models import Opportunity, OpportunityTransition, Stage
from leadflow.opportunities.queries import BOARD_PAGE

pytestmark = pytest.mark.django_db

BOARD = "/pipeline/"
HTMX = {"HTTP_HX_REQUEST": "true"}


def lead(owner, title: str = "Office chairs", *, actor=None, **values) -> Opportunity:
    """An open qualified lead in the first stage; ``values`` are set as they were typed
    in later (value, dates, probabilities, service type)."""
    opportunity = open_opportunity(
        actor=actor or owner,
        contact=make_contact(company="Janssens BV"),
        owner=owner,
        title=title,
    )
    if values:
        Opportunity.objects.filter(pk=opportunity.pk).update(**values)
        opportunity.refresh_from_db()
    return opportunity


def stage(code: str) -> Stage:
    return Stage.objects.get(code=code)


@pytest.fixture
def as_user(personas):
    def client_for(name: str) -> Client:
        client = Client()
        client.force_login(personas[name])
        return client

    return client_for


def columns_of(response) -> dict:
    return {c.stage.code: c for c in response.context["columns"]}


# --- the board ----------------------------------------------------------------------


def test_board_shows_a_column_per_active_stage_with_count_and_totals(as_user, rep):
    lead(rep, "Plain", expected_value=Decimal("1000"))
    lead(
        rep,
        "Probable",
        expected_value=Decimal("2000"),
        p_win=Decimal("0.5"),
        p_go=Decimal("0.8"),
    )
    lead(rep, "No value yet")
    lead(rep, "Offer", expected_value=Decimal("4000"), stage=stage("proposal"))

    response = as_user("rep").get(BOARD)

    assert response.status_code == 200
    columns = columns_of(response)
    assert list(columns) == ["qualification", "proposal", "negotiation"]
    qualification = columns["qualification"]
    assert qualification.count == 3
    assert qualification.unweighted == Decimal("3000.00")
    # 1000 × stage weight 0.25 + 2000 × P win 0.5 × P go 0.8
    assert qualification.weighted == Decimal("1050.00")
    assert columns["proposal"].count == 1
    assert columns["proposal"].weighted == Decimal("2000.00")  # 4000 × 0.5
    assert columns["negotiation"].count == 0
    assert response.context["total_count"] == 4
    assert response.context["total_weighted"] == Decimal("3050.00")
    html = response.content.decode()
    assert 'data-testid="count-qualification" title="open qualified leads">3<' in html
    assert 'data-testid="unweighted-qualification">€ 3,000<' in html
    assert 'data-testid="weighted-qualification">€ 1,050<' in html
    assert html.count(">unweighted<") == 3 and html.count(">weighted<") == 3


def test_a_card_shows_customer_owner_value_decision_date_and_overdue_activities(
    as_user, rep
):
    o = lead(
        rep,
        "Forty desks",
        expected_value=Decimal("12500"),
        decision_date=timezone.localdate() + timedelta(days=3),
    )
    yesterday = timezone.now() - timedelta(days=1)
    for subject in ("Call back", "Send samples"):
        add_activity(
            o, actor=rep, kind="call", subject=subject, assignee=rep, due_at=yesterday
        )
    add_activity(o, actor=rep, kind="task", subject="Later", assignee=rep)

    html = as_user("rep").get(BOARD).content.decode()

    assert f'href="/opportunities/{o.pk}/"' in html
    assert f'href="/opportunities/{o.pk}/#move"' in html
    assert "Forty desks" in html and "Janssens BV" in html
    assert str(rep) in html
    assert "€ 12,500" in html
    assert f'data-testid="overdue-{o.pk}">2 overdue activities<' in html
    assert f'data-move-url="/pipeline/move/{o.pk}/"' in html
    assert 'draggable="true"' in html


def test_inactive_stages_have_no_column(as_user, rep):
    Stage.objects.filter(code="negotiation").update(is_active=False)
    response = as_user("rep").get(BOARD)
    assert list(columns_of(response)) == ["qualification", "proposal"]


def test_closed_leads_are_not_on_the_board(as_user, rep):
    won = lead(rep, "Won already", expected_value=Decimal("500"))
    close_opportunity(won, actor=rep, result="won", reason="Signed")
    lead(rep, "Still open", expected_value=Decimal("700"))
    columns = columns_of(as_user("rep").get(BOARD))
    assert columns["qualification"].count == 1
    assert columns["qualification"].unweighted == Decimal("700.00")


def test_a_salesperson_sees_their_team_but_not_the_other_team(
    as_user, rep, inside, outsider
):
    mine = lead(rep, "Mine")
    teammates = lead(inside, "Inside's")
    theirs = lead(outsider, "Other team's")
    response = as_user("rep").get(BOARD)
    ids = {o.pk for o in columns_of(response)["qualification"].cards}
    assert ids == {mine.pk, teammates.pk}
    assert f"card-{theirs.pk}" not in response.content.decode()


def test_the_director_sees_every_team(as_user, rep, outsider):
    lead(rep)
    lead(outsider)
    assert columns_of(as_user("director").get(BOARD))["qualification"].count == 2


@pytest.mark.parametrize("persona", ["marketer", "colleague"])
def test_people_outside_sales_get_403_on_the_board(as_user, persona):
    assert as_user(persona).get(BOARD).status_code == 403
    assert (
        as_user(persona).get(f"/pipeline/column/{stage('proposal').pk}/").status_code
        == 403
    )


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(BOARD)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_the_navigation_links_the_board_for_the_sales_side_only(as_user):
    assert 'href="/pipeline/"' in as_user("rep").get("/").content.decode()
    assert 'href="/pipeline/"' not in as_user("marketer").get("/").content.decode()


# --- filters ------------------------------------------------------------------------


@pytest.fixture
def spread(rep, inside, outsider):
    return {
        "rep_install": lead(rep, "Rep install", service_type="Installation"),
        "rep_maint": lead(rep, "Rep maintenance", service_type="Maintenance"),
        "inside": lead(inside, "Inside install", service_type="Installation"),
        "outsider": lead(outsider, "South install", service_type="Installation"),
    }


def _titles(response) -> set[str]:
    return {o.title for c in response.context["columns"] for o in c.cards}


def test_only_mine_filter(as_user, spread):
    response = as_user("rep").get(BOARD, {"mine": "1"})
    assert _titles(response) == {"Rep install", "Rep maintenance"}
    assert 'name="mine" value="1" checked' in response.content.decode()


def test_owner_filter(as_user, spread, inside):
    response = as_user("director").get(BOARD, {"owner": inside.pk})
    assert _titles(response) == {"Inside install"}


def test_team_filter(as_user, spread, teams):
    response = as_user("director").get(BOARD, {"team": teams["South"].pk})
    assert _titles(response) == {"South install"}


def test_service_type_filter_and_its_choices(as_user, spread):
    response = as_user("director").get(BOARD, {"service_type": "Installation"})
    assert _titles(response) == {"Rep install", "Inside install", "South install"}
    assert response.context["service_types"] == ["Installation", "Maintenance"]
    assert columns_of(response)["qualification"].count == 3


def test_malformed_filters_are_ignored(as_user, spread):
    response = as_user("director").get(BOARD, {"owner": "x", "team": "1;drop"})
    assert response.status_code == 200
    assert len(_titles(response)) == 4


def test_filters_combine(as_user, spread, teams):
    response = as_user("director").get(
        BOARD, {"team": teams["North"].pk, "service_type": "Installation"}
    )
    assert _titles(response) == {"Rep install", "Inside install"}


# --- lazy columns -------------------------------------------------------------------


def _many(owner, n: int, **values) -> list[Opportunity]:
    leads = [lead(owner, f"Lead {i:02d}") for i in range(n)]
    today = timezone.localdate()
    for i, o in enumerate(leads):  # decision dates fix the order of the cards
        Opportunity.objects.filter(pk=o.pk).update(
            decision_date=today + timedelta(days=i), **values
        )
    return leads


def test_a_column_shows_one_page_of_cards_and_a_load_more_button(as_user, rep):
    leads = _many(rep, BOARD_PAGE + 5, service_type="Installation")
    response = as_user("rep").get(BOARD, {"service_type": "Installation"})
    column = columns_of(response)["qualification"]
    assert column.count == BOARD_PAGE + 5
    assert [o.pk for o in column.cards] == [o.pk for o in leads[:BOARD_PAGE]]
    html = response.content.decode()
    url = (
        f"/pipeline/column/{stage('qualification').pk}/"
        f"?offset={BOARD_PAGE}&amp;service_type=Installation"
    )
    assert f'hx-get="{url}"' in html
    assert 'data-testid="more-proposal"' not in html


def test_the_column_endpoint_returns_the_next_page_without_the_page_around_it(
    as_user, rep
):
    leads = _many(rep, BOARD_PAGE + 5)
    response = as_user("rep").get(
        f"/pipeline/column/{stage('qualification').pk}/",
        {"offset": BOARD_PAGE, "mine": "1"},
        **HTMX,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert [o.pk for o in response.context["cards"]] == [
        o.pk for o in leads[BOARD_PAGE:]
    ]
    assert html.count('class="board-card"') == 5
    assert "Load more" not in html


def test_the_column_endpoint_offers_more_while_cards_remain(as_user, rep):
    _many(rep, 2 * BOARD_PAGE + 1)
    stage_id = stage("qualification").pk
    response = as_user("rep").get(
        f"/pipeline/column/{stage_id}/", {"offset": BOARD_PAGE, "mine": "1"}, **HTMX
    )
    html = response.content.decode()
    assert html.count('class="board-card"') == BOARD_PAGE
    assert (
        f'hx-get="/pipeline/column/{stage_id}/?offset={2 * BOARD_PAGE}&amp;mine=1"'
        in html
    )


def test_the_column_endpoint_respects_visibility(as_user, outsider):
    lead(outsider, "South only")
    response = as_user("rep").get(f"/pipeline/column/{stage('qualification').pk}/")
    assert response.context["cards"] == []


def test_the_column_endpoint_404s_for_an_unknown_or_inactive_stage(as_user):
    Stage.objects.filter(code="negotiation").update(is_active=False)
    client = as_user("rep")
    assert client.get("/pipeline/column/9999/").status_code == 404
    assert client.get(f"/pipeline/column/{stage('negotiation').pk}/").status_code == 404


# --- moving a card ------------------------------------------------------------------


def _move(client, opportunity, *, query: str = "", htmx: bool = True, **data):
    url = f"/pipeline/move/{opportunity.pk}/" + (f"?{query}" if query else "")
    return client.post(url, data, **(HTMX if htmx else {}))


def test_dropping_a_card_moves_the_lead_with_the_reason_and_returns_the_board(
    as_user, rep
):
    o = lead(rep, "Forty desks", expected_value=Decimal("1000"))

    response = _move(
        as_user("rep"), o, stage="proposal", reason="Customer asked for a price"
    )

    assert response.status_code == 200
    o.refresh_from_db()
    assert o.stage.code == "proposal"
    row = OpportunityTransition.objects.filter(opportunity=o).latest("at")
    assert (row.from_state, row.to_state) == ("qualification", "proposal")
    assert row.reason == "Customer asked for a price"
    assert row.actor == rep
    html = response.content.decode()
    assert "<html" not in html  # the board partial only
    assert 'data-testid="moved-note"' in html
    columns = columns_of(response)
    assert columns["proposal"].count == 1
    assert columns["proposal"].weighted == Decimal("500.00")
    assert columns["qualification"].count == 0


def test_the_returned_board_keeps_the_filters(as_user, rep, inside):
    o = lead(rep, "Mine")
    lead(inside, "Inside's")
    response = _move(as_user("rep"), o, query="mine=1", stage="proposal", reason="Go")
    assert _titles(response) == {"Mine"}


def test_a_move_without_a_reason_is_refused_with_422(as_user, rep):
    o = lead(rep)
    response = _move(as_user("rep"), o, stage="proposal", reason="   ")
    assert response.status_code == 422
    assert "Say why the stage changes." in response.content.decode()
    assert 'data-testid="move-error"' in response.content.decode()
    o.refresh_from_db()
    assert o.stage.code == "qualification"


def test_a_move_to_an_unknown_stage_is_refused_with_422(as_user, rep):
    o = lead(rep)
    response = _move(as_user("rep"), o, stage="heaven", reason="Why not")
    assert response.status_code == 422
    assert "Unknown stage" in response.content.decode()


def test_a_closed_lead_cannot_be_moved_409(as_user, rep):
    o = lead(rep)
    close_opportunity(o, actor=rep, result="lost", reason="Too expensive")
    response = _move(as_user("rep"), o, stage="proposal", reason="Try again")
    assert response.status_code == 409
    assert "closed" in response.content.decode()


def test_another_teams_lead_is_404(as_user, outsider):
    o = lead(outsider)
    response = _move(as_user("rep"), o, stage="proposal", reason="Mine now")
    assert response.status_code == 404
    o.refresh_from_db()
    assert o.stage.code == "qualification"


def test_marketing_cannot_move_leads(as_user, rep):
    o = lead(rep)
    response = _move(as_user("marketer"), o, stage="proposal", reason="Because")
    assert response.status_code == 404


def test_the_move_endpoint_only_accepts_post(as_user, rep):
    o = lead(rep)
    assert as_user("rep").get(f"/pipeline/move/{o.pk}/").status_code == 405


def test_without_htmx_a_move_redirects_to_the_board_with_a_message(as_user, rep):
    o = lead(rep, "Forty desks")
    client = as_user("rep")
    response = _move(
        client, o, htmx=False, query="mine=1", stage="negotiation", reason="Fast"
    )
    assert response.status_code == 302
    assert response["Location"] == "/pipeline/?mine=1"
    page = client.get(response["Location"]).content.decode()
    assert "“Forty desks” moved to Negotiation." in page

    response = _move(client, o, htmx=False, stage="proposal", reason="")
    assert response.status_code == 302
    assert "Say why the stage changes." in client.get(BOARD).content.decode()


def test_the_board_page_carries_the_move_dialog_without_inline_script(as_user):
    html = as_user("rep").get(BOARD).content.decode()
    assert '<dialog id="move-dialog"' in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert "/static/js/board.js" in html and "/static/css/board.css" in html
    assert "<script>" not in html and " style=" not in html and "hx-on" not in html


# --- speed --------------------------------------------------------------------------


def _count_board_queries(client, django_assert_max_num_queries) -> int:
    with django_assert_max_num_queries(14) as captured:
        response = client.get(BOARD)
    assert response.status_code == 200
    return len(captured.captured_queries)


def test_the_board_query_count_does_not_grow_with_the_number_of_leads(
    as_user, rep, inside, django_assert_max_num_queries
):
    client = as_user("director")
    _many(rep, 3)
    few = _count_board_queries(client, django_assert_max_num_queries)
    for o in _many(inside, 2 * BOARD_PAGE):
        add_activity(
            o,
            actor=inside,
            kind="call",
            subject="Call",
            assignee=inside,
            due_at=timezone.now() - timedelta(hours=1),
        )
    Opportunity.objects.filter(owner=inside).update(stage=stage("proposal"))
    many = _count_board_queries(client, django_assert_max_num_queries)
    assert many == few


def test_the_column_endpoint_runs_a_fixed_number_of_queries(
    as_user, rep, django_assert_max_num_queries
):
    _many(rep, 2 * BOARD_PAGE)
    client = as_user("rep")
    with django_assert_max_num_queries(8):
        client.get(
            f"/pipeline/column/{stage('qualification').pk}/",
            {"offset": BOARD_PAGE},
            **HTMX,
        )


# --- my day -------------------------------------------------------------------------


def test_my_day_lists_overdue_activities_decisions_due_and_stale_leads(as_user, rep):
    today = timezone.localdate()
    due = lead(rep, "Decide soon", decision_date=today + timedelta(days=5))
    lead(rep, "Decide later", decision_date=today + timedelta(days=40))
    stale = lead(
        rep, "Gone quiet", stage_entered_at=timezone.now() - timedelta(days=30)
    )
    add_activity(
        due,
        actor=rep,
        kind="call",
        subject="Call the buyer",
        assignee=rep,
        due_at=timezone.now() - timedelta(days=2),
    )

    response = as_user("rep").get("/")

    assert [a.subject for a in response.context["overdue_activities"]] == [
        "Call the buyer"
    ]
    assert [o.pk for o in response.context["decisions_due"]] == [due.pk]
    assert [o.pk for o in response.context["stale_leads"]] == [stale.pk]
    html = response.content.decode()
    assert 'data-testid="my-day"' in html
    assert "Call the buyer" in html and "Decide soon" in html and "Gone quiet" in html
    assert "Decide later" in html  # still in 'My qualified leads', not in decisions
    assert f'href="/opportunities/{due.pk}/"' in html
    assert f'href="/opportunities/{stale.pk}/"' in html


def test_my_day_shows_only_my_own_items(as_user, rep, inside):
    today = timezone.localdate()
    lead(inside, "Inside decides", decision_date=today)
    response = as_user("rep").get("/")
    assert list(response.context["decisions_due"]) == []
    assert "Inside decides" not in response.content.decode()


@pytest.mark.parametrize("persona", ["marketer", "colleague", "admin"])
def test_my_day_is_only_for_people_who_own_leads(as_user, persona):
    response = as_user(persona).get("/")
    assert response.status_code == 200
    assert "overdue_activities" not in response.context
    assert 'data-testid="my-day"' not in response.content.decode()


def test_a_lead_made_at_intake_shows_up_on_the_board(as_user, inside, rep):
    o = make_opportunity(inside, owner=rep, summary="Twenty chairs")
    html = as_user("rep").get(BOARD).content.decode()
    assert f'data-testid="card-{o.pk}"' in html
