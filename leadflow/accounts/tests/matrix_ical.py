"""Permission-matrix rows (merged by core/tests/test_permission_matrix.py): the user's
own calendar-feed page and the feed itself.

Every logged-in user manages their own feed (their activities, on the leads they may
see). The feed needs no login: its secret is the credential, so whoever holds rep's
link gets rep's feed, and nothing else (a wrong or revoked secret is a 404: tested in
opportunities/tests/test_ical.py).
"""

from leadflow.opportunities.ical import issue_calendar_feed

PAGES = {
    "account_calendar": ("GET", "/account/calendar/"),
    "calendar_feed": ("GET", "/calendar/{feed_secret}.ics"),
}

PAGE_MATRIX = {
    "account_calendar": "ok    ok    ok    ok    ok    ok    ok    login",
    "calendar_feed": "ok    ok    ok    ok    ok    ok    ok    ok",
}


def build(users) -> dict:
    """rep's calendar link: the feed the matrix opens."""
    _feed, secret = issue_calendar_feed(users["rep"], actor=users["rep"])
    return {"feed_secret": secret}
