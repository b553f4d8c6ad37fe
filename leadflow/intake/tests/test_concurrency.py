"""Two people closing the same inquiry at once: exactly one succeeds."""

import threading

import pytest
from django.db import connection

from leadflow.intake.actions import close_inquiry
from leadflow.intake.errors import InquiryClosed
from leadflow.intake.models import Inquiry, InquiryTransition
from leadflow.intake.tests.factories import make_inquiry
from leadflow.opportunities.models import Opportunity


@pytest.mark.django_db
def test_a_stale_copy_cannot_close_an_inquiry_closed_meanwhile(inside, director, rep):
    inquiry = make_inquiry(inside)
    mine = Inquiry.objects.get(pk=inquiry.pk)
    theirs = Inquiry.objects.get(pk=inquiry.pk)
    close_inquiry(mine, actor=inside, outcome="qualified", owner=rep)
    with pytest.raises(InquiryClosed) as exc:
        close_inquiry(theirs, actor=director, outcome="qualified", owner=director)
    assert exc.value.code == "inquiry_closed"
    assert Opportunity.objects.get().owner == rep
    assert (
        InquiryTransition.objects.filter(inquiry=inquiry, to_state="closed").count()
        == 1
    )
    stored = Inquiry.objects.get(pk=inquiry.pk)
    assert stored.closed_by == inside


@pytest.mark.django_db
def test_a_stale_copy_cannot_archive_over_a_nurture(inside, director):
    inquiry = make_inquiry(inside)
    mine = Inquiry.objects.get(pk=inquiry.pk)
    theirs = Inquiry.objects.get(pk=inquiry.pk)
    close_inquiry(mine, actor=inside, outcome="nurture", marketing_lists=["News"])
    with pytest.raises(InquiryClosed):
        close_inquiry(theirs, actor=director, outcome="archived", reason="spam")
    assert Inquiry.objects.get(pk=inquiry.pk).outcome == "nurture"


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs row locks between connections (SQLite's shared-cache test "
    "database reports 'table is locked' instead of waiting)",
)
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_closes_one_wins_and_the_other_gets_inquiry_closed(
    inside, director, rep
):
    inquiry = make_inquiry(inside)
    barrier = threading.Barrier(2, timeout=10)
    results: dict[str, object] = {}

    def close_as(name, actor, owner):
        stale = Inquiry.objects.get(pk=inquiry.pk)
        try:
            barrier.wait()
            close_inquiry(stale, actor=actor, outcome="qualified", owner=owner)
            results[name] = "closed"
        except InquiryClosed as exc:
            results[name] = exc.code
        except Exception as exc:  # any other error shows in the assertion below
            results[name] = repr(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=close_as, args=("inside", inside, rep)),
        threading.Thread(target=close_as, args=("director", director, director)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results.values()) == ["closed", "inquiry_closed"]
    assert Opportunity.objects.count() == 1
    winner = "inside" if results["inside"] == "closed" else "director"
    expected_owner = rep if winner == "inside" else director
    assert Opportunity.objects.get().owner == expected_owner
    assert (
        InquiryTransition.objects.filter(inquiry=inquiry, to_state="closed").count()
        == 1
    )
