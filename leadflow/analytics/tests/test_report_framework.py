"""The analysis pages, their HTMX partial, the exports and ``GET /api/analytics/<name>``
for every registered report and every persona.

The page numbers are checked on the sources report (every install has it) with a
three-inquiry dataset, counted by hand (``trio`` below):

inquiry  channel  taken in by  outcome                       lead
A        phone    inside       qualified → owner outsider,   expected value 5,000
                                won
B        phone    inside       archived                      –
C        e-mail   inside       open                          –

By channel     inquiries  qualified  rate      won  inquiry → won  won value
Phone          2          1          50.0 %    1    50.0 %         € 5,000.00
E-mail         1          0          0.0 %     0    0.0 %          € 0.00
Total          3          1          33.3 %    1    33.3 %         € 5,000.00

The rep took none of them in, nor owns (with the team) a lead made from them: an empty
table.
"""

import csv
import io
import re
from decimal import Decimal

import pytest
from django.test import Client
from django.utils.html import escape
from openpyxl import load_workbook

from leadflow.accounts.permissions import has_capability
from leadflow.analytics.reports import REPORTS, ordered_reports
from leadflow.analytics.tests.factories import make_leads
from leadflow.intake.actions import close_inquiry
from leadflow.intake.tests.factories import make_inquiry, make_opportunity
from leadflow.opportunities.actions import (
    add_activity,
    close_opportunity,
    decide_quote,
    update_opportunity,
)
from leadflow.opportunities.tests.pipeline_factories import (
    make_sent_quote,
    qualified_lead,
)

ALLOWED = ("admin", "inside", "rep", "outsider", "director", "marketer")
NAMES = sorted(REPORTS)


def login(client: Client, user) -> Client:
    client.force_login(user)
    return client


def allowed_for(report, user) -> bool:
    return not report.capability or has_capability(user, report.capability)


@pytest.fixture
def trio(personas):
    inside, outsider = personas["inside"], personas["outsider"]
    a = make_inquiry(inside, channel="phone", referrer="Ann Peeters")
    close_inquiry(a, actor=inside, outcome="qualified", owner=outsider)
    lead = a.opportunity
    update_opportunity(lead, actor=outsider, expected_value=Decimal("5000"))
    close_opportunity(lead, actor=outsider, result="won", reason="signed")
    b = make_inquiry(inside, channel="phone")
    close_inquiry(b, actor=inside, outcome="archived", reason="spam")
    make_inquiry(inside, channel="email")


@pytest.fixture
def busy(personas):
    """Something for every report: the forecast dataset (nine leads in all stages, one
    won), inquiries closed every way, a quote accepted, leads lost and not going
    ahead, an activity with a duration."""
    rep, inside, outsider = personas["rep"], personas["inside"], personas["outsider"]
    make_leads(personas)
    make_inquiry(inside, channel="web_form", company="Acme NV", referrer="Ann")
    nurtured = make_inquiry(inside, channel="email")
    close_inquiry(nurtured, actor=inside, outcome="nurture")
    archived = make_inquiry(inside, channel="phone")
    close_inquiry(archived, actor=inside, outcome="archived", reason="spam")
    lost = make_opportunity(inside, owner=outsider, channel="referral")
    close_opportunity(lost, actor=outsider, result="lost", reason="price")
    gone = make_opportunity(inside, owner=rep, channel="phone")
    close_opportunity(gone, actor=rep, result="not_going_ahead", reason="no budget")
    quoted = qualified_lead(rep, owner=rep)
    quote = make_sent_quote(quoted, rep)
    decide_quote(quote, actor=rep, accepted=True, close_as_won=True)
    open_quote = qualified_lead(inside, owner=inside)
    make_sent_quote(open_quote, inside)
    add_activity(
        open_quote,
        actor=inside,
        kind="call",
        subject="Follow up",
        assignee=inside,
        duration_minutes=30,
    )


# --- the index -------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ALLOWED)
def test_the_index_lists_every_report_the_user_may_open(client, personas, persona):
    user = personas[persona]
    response = login(client, user).get("/analytics/")
    assert response.status_code == 200
    html = response.content.decode()
    for report in ordered_reports():
        link = f'data-testid="report-link-{report.name}"'
        assert (link in html) == allowed_for(report, user), report.name
        if allowed_for(report, user):
            assert f"/analytics/{report.name}/" in html
            assert escape(str(report.title)) in html


def test_the_index_lists_reports_in_spec_order(client, director):
    html = login(client, director).get("/analytics/").content.decode()
    positions = [
        html.index(f'data-testid="report-link-{r.name}"') for r in ordered_reports()
    ]
    assert positions == sorted(positions)


def test_colleagues_and_strangers_get_no_analyses(client, colleague):
    anonymous = client.get("/analytics/")
    assert anonymous.status_code == 302
    assert "/login/" in anonymous["Location"]
    assert client.get("/analytics/sources/").status_code == 302
    login(client, colleague)
    assert client.get("/analytics/").status_code == 403
    assert client.get("/analytics/sources/").status_code == 403
    assert client.get("/analytics/sources/", {"format": "csv"}).status_code == 403


def test_an_unknown_report_is_a_404(client, director, api_as):
    login(client, director)
    assert client.get("/analytics/no-such-report/").status_code == 404
    assert api_as("director").get("/api/analytics/no-such-report").status_code == 404


# --- the page: numbers, partial, errors -----------------------------------------------


def _cells(html: str, testid: str) -> list[list[str]]:
    """The text of each row of a table (th and td), tags stripped."""
    start = html.index(f'data-testid="{testid}"')
    table = html[start : html.index("</table>", start)]
    rows = re.findall(r"<tr>(.*?)</tr>", table, flags=re.S)
    return [
        [
            re.sub(r"<[^>]+>", "", c).strip()
            for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r, flags=re.S)
        ]
        for r in rows
    ]


def test_the_sources_page_shows_the_hand_counted_numbers(client, director, trio):
    response = login(client, director).get("/analytics/sources/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="report-title">3. Sources</h1>' in html
    # The first seven columns (the report may add more after them).
    assert [row[:7] for row in _cells(html, "table-channel")] == [
        [
            "Channel",
            "Inquiries",
            "Qualified",
            "Qualification rate",
            "Won",
            "Inquiry → won",
            "Won value",
        ],
        ["Phone", "2", "1", "50.0 %", "1", "50.0 %", "€ 5,000.00"],
        ["E-mail", "1", "0", "0.0 %", "0", "0.0 %", "€ 0.00"],
        ["Total", "3", "1", "33.3 %", "1", "33.3 %", "€ 5,000.00"],
    ]
    assert _cells(html, "table-referrer")[1][:3] == ["Ann Peeters", "1", "1"]
    # The definitions are written on the page.
    assert 'data-testid="definitions"' in html
    assert "Qualification rate = qualified ÷ inquiries (same cohort)." in html
    # The chart's data is embedded as JSON for Chart.js, not as markup.
    assert 'data-chart="chart-data-inquiries-per-month"' in html
    assert '<script id="chart-data-inquiries-per-month" type="application/json">' in (
        html
    )
    assert "vendor/chart.umd.min.js" in html
    # Nothing is loaded from another host (a CDN). Not a search for "cdn" in the
    # page: a random CSRF token contains those three letters now and then.
    assert not re.search(r'(src|href)="(https?:)?//', html)


def test_a_salesperson_sees_only_their_scope_on_the_page(client, rep, trio):
    html = login(client, rep).get("/analytics/sources/").content.decode()
    assert 'data-testid="table-channel"' not in html
    assert 'data-testid="empty-channel"' in html
    assert "Nothing in this period with these filters." in html


def test_filters_narrow_the_page(client, director, trio):
    from leadflow.intake.models import Channel

    email = Channel.objects.get(code="email").pk
    html = (
        login(client, director)
        .get("/analytics/sources/", {"channel": email})
        .content.decode()
    )
    rows = _cells(html, "table-channel")
    assert rows[1][:3] == ["E-mail", "1", "0"]
    assert rows[-1][:2] == ["Total", "1"]
    assert f'<option value="{email}" selected>' in html
    # The export links carry the filters.
    assert f"channel={email}&amp;format=csv&amp;table=channel" in html


def test_the_htmx_request_gets_only_the_report_body(client, director, trio):
    login(client, director)
    response = client.get(
        "/analytics/sources/",
        {"from": "2025-01-01"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="report-body",
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="report-body"')
    assert "<html" not in html
    assert 'data-testid="report-filters"' not in html
    assert 'data-testid="table-channel"' in html
    # A full page for any other target (or none).
    full = client.get("/analytics/sources/", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" in full and 'data-testid="report-filters"' in full


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"from": "2026-13-01"}, "from: &#x27;2026-13-01&#x27; is not a date"),
        (
            {"from": "2026-05-01", "to": "2026-04-01"},
            "The period ends before it starts.",
        ),
        ({"channel": "999999"}, "Unknown channel &#x27;999999&#x27;."),
        ({"person": "nobody"}, "Unknown person &#x27;nobody&#x27;."),
    ],
)
def test_a_bad_filter_is_shown_on_the_page_with_a_422(
    client, director, trio, params, message
):
    login(client, director)
    response = client.get("/analytics/sources/", params)
    assert response.status_code == 422
    html = response.content.decode()
    assert 'data-testid="filter-error"' in html
    assert message in html
    # The page still shows the default period's figures under the message.
    assert 'data-testid="table-channel"' in html
    partial = client.get(
        "/analytics/sources/",
        params,
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="report-body",
    )
    assert partial.status_code == 422
    assert message in partial.content.decode()


@pytest.mark.parametrize(
    ("params", "detail"),
    [
        (
            {"from": "2026-13-01"},
            "from: '2026-13-01' is not a date (use YYYY-MM-DD or YYYY-MM).",
        ),
        (
            {"from": "2026-05-01", "to": "2026-04-01"},
            "The period ends before it starts.",
        ),
        (
            {"from": "2000-01-01", "to": "2026-01-01"},
            "The period is longer than ten years.",
        ),
        ({"channel": "999999"}, "Unknown channel '999999'."),
        ({"campaign": "abc"}, "Unknown campaign 'abc'."),
        ({"department": "999999"}, "Unknown department '999999'."),
        ({"team": "999999"}, "Unknown team '999999'."),
        ({"person": "nobody"}, "Unknown person 'nobody'."),
    ],
)
def test_a_bad_filter_is_a_422_in_the_api(api_as, params, detail):
    response = api_as("director").get("/api/analytics/sources", params)
    assert response.status_code == 422
    body = response.json()
    assert body["detail"] == detail
    assert body["code"] in ("invalid_date", "invalid_period", "invalid_filter")


def test_an_overlong_filter_value_is_a_422_in_the_api(api_as):
    response = api_as("director").get("/api/analytics/sources", {"from": "2026-01-01x"})
    assert response.status_code == 422


# --- the exports ----------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_every_report_exports_each_table_as_csv_and_all_as_xlsx(
    client, director, busy, name
):
    login(client, director)
    page = client.get(f"/analytics/{name}/")
    assert page.status_code == 200
    document = page.context["document"]
    for table in document["tables"]:
        response = client.get(
            f"/analytics/{name}/", {"format": "csv", "table": table["key"]}
        )
        assert response.status_code == 200, table["key"]
        assert response.content.startswith(b"\xef\xbb\xbf")
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
        assert rows[0] == [c["label"] for c in table["columns"]]
        expected = len(table["rows"]) + 1 + (1 if table["totals"] else 0)
        assert len(rows) == expected, table["key"]
    if document["tables"]:
        xlsx = client.get(f"/analytics/{name}/", {"format": "xlsx"})
        assert xlsx.status_code == 200
        book = load_workbook(io.BytesIO(xlsx.content))
        assert len(book.sheetnames) == len(document["tables"])


# --- the JSON --------------------------------------------------------------------------


def test_the_api_lists_the_reports(api_as):
    response = api_as("director").get("/api/analytics")
    assert response.status_code == 200
    listed = response.json()
    assert [r["name"] for r in listed] == [r.name for r in ordered_reports()]
    for row in listed:
        assert row["url"] == f"/api/analytics/{row['name']}"
        assert set(row) == {"name", "number", "title", "summary", "url"}
    assert api_as("colleague").get("/api/analytics").status_code == 403


def test_the_json_shape_and_the_numbers(api_as, trio):
    response = api_as("director").get(
        "/api/analytics/sources", {"from": "2025-12", "to": "2026-11-30"}
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "report",
        "title",
        "period",
        "filters",
        "definitions",
        "figures",
        "notes",
        "tables",
        "charts",
        "computed_at",
    }
    assert body["report"] == "sources"
    assert body["title"] == "Sources"
    assert body["period"] == {"from": "2025-12-01", "to": "2026-11-30"}
    assert body["filters"] == {"from": "2025-12-01", "to": "2026-11-30"}
    assert body["figures"][0] == {"label": "Inquiries", "value": 3, "kind": "int"}
    channel = next(t for t in body["tables"] if t["key"] == "channel")
    assert set(channel) == {"key", "title", "note", "columns", "rows", "totals"}
    assert channel["columns"][0] == {"key": "name", "label": "Channel", "kind": "text"}
    keys = [c["key"] for c in channel["columns"]][:7]
    assert [{k: row[k] for k in keys} for row in channel["rows"]] == [
        {
            "name": "Phone",
            "inquiries": 2,
            "qualified": 1,
            "qualification_rate": 0.5,
            "won": 1,
            "conversion": 0.5,
            "won_value": 5000.0,
        },
        {
            "name": "E-mail",
            "inquiries": 1,
            "qualified": 0,
            "qualification_rate": 0.0,
            "won": 0,
            "conversion": 0.0,
            "won_value": 0.0,
        },
    ]
    assert channel["totals"]["inquiries"] == 3
    assert channel["totals"]["qualification_rate"] == pytest.approx(1 / 3)
    chart = next(c for c in body["charts"] if c["key"] == "inquiries-per-month")
    assert set(chart) == {"key", "title", "type", "stacked", "labels", "datasets"}
    assert len(chart["labels"]) == 12  # December 2025 – November 2026
    assert chart["labels"][0] == "December 2025"
    assert {d["label"]: sum(d["data"]) for d in chart["datasets"]} == {
        "Phone": 2,
        "E-mail": 1,
    }
    for dataset in chart["datasets"]:
        assert set(dataset) == {"label", "kind", "type", "axis", "data"}
        assert len(dataset["data"]) == 12


def test_the_api_counts_in_the_salespersons_scope(api_as, trio):
    body = api_as("rep").get("/api/analytics/sources").json()
    channel = next(t for t in body["tables"] if t["key"] == "channel")
    assert channel["rows"] == []
    assert channel["totals"]["inquiries"] == 0
    assert channel["totals"]["qualification_rate"] is None


def test_the_api_filters_by_username(api_as, personas, trio):
    body = (
        api_as("director")
        .get("/api/analytics/sources", {"person": "rep", "from": "2026-01"})
        .json()
    )
    assert body["filters"]["person"] == "rep"


# --- every report, every persona, with and without data ----------------------------


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("persona", ALLOWED)
def test_every_report_answers_without_data(client, api_as, personas, name, persona):
    _every_report_answers(client, api_as, personas, name, persona)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("persona", ALLOWED)
def test_every_report_answers_with_data(client, api_as, personas, busy, name, persona):
    _every_report_answers(client, api_as, personas, name, persona)


def _every_report_answers(client, api_as, personas, name, persona):
    report = REPORTS[name]
    user = personas[persona]
    login(client, user)
    response = client.get(f"/analytics/{name}/")
    if not allowed_for(report, user):
        assert response.status_code == 404
        return
    assert response.status_code == 200
    html = response.content.decode()
    assert escape(f"{report.number}. {report.title}") in html
    result = response.context["result"]
    for table in result.tables:
        shown = f'data-testid="table-{table.key}"' in html
        empty = f'data-testid="empty-{table.key}"' in html
        assert shown != empty, table.key
        assert shown == bool(table.rows), table.key
    partial = client.get(
        f"/analytics/{name}/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="report-body"
    )
    assert partial.status_code == 200
    api = api_as(persona).get(f"/api/analytics/{name}")
    assert api.status_code == 200
    assert api.json()["report"] == name


def test_colleague_gets_403_from_every_report_api(api_as, personas):
    for name in NAMES:
        assert api_as("colleague").get(f"/api/analytics/{name}").status_code == 403


def test_a_report_capability_hides_the_page(client, monkeypatch, director, admin):
    monkeypatch.setattr(REPORTS["sources"], "capability", "config.manage")
    login(client, director)
    assert client.get("/analytics/sources/").status_code == 404
    assert 'data-testid="report-link-sources"' not in (
        client.get("/analytics/").content.decode()
    )
    login(client, admin)
    assert client.get("/analytics/sources/").status_code == 200


def test_a_report_capability_also_guards_the_api(monkeypatch, api_as):
    monkeypatch.setattr(REPORTS["sources"], "capability", "config.manage")
    assert api_as("admin").get("/api/analytics/sources").status_code == 200
    listed = [r["name"] for r in api_as("director").get("/api/analytics").json()]
    assert api_as("director").get("/api/analytics/sources").status_code in (403, 404)
    assert "sources" not in listed
