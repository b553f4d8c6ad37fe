import datetime
from io import StringIO

import pytest
from django.core.management import call_command

from leadflow.opportunities.models import Quote, QuoteTransition
from leadflow.opportunities.tests.pipeline_factories import (
    make_sent_quote,
    qualified_lead,
)


@pytest.fixture
def lead(rep):
    return qualified_lead(rep, owner=rep)


def test_only_sent_quotes_past_their_validity_expire(lead, rep):
    old = make_sent_quote(lead, rep)
    current = make_sent_quote(lead, rep)
    Quote.objects.filter(pk=current.pk).update(valid_until=datetime.date(2099, 1, 1))
    Quote.objects.filter(pk=old.pk).update(valid_until=datetime.date(2020, 1, 1))
    out = StringIO()
    call_command("expire_quotes", stdout=out)
    old.refresh_from_db()
    assert old.status == "expired"
    assert QuoteTransition.objects.filter(quote=old).last().to_state == "expired"
    assert "1 quote(s) expired" in out.getvalue()
    current.refresh_from_db()
    assert current.status == "sent"
    call_command("expire_quotes", stdout=StringIO())
    assert QuoteTransition.objects.filter(quote=old, to_state="expired").count() == 1
