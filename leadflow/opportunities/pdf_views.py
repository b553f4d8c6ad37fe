"""Download a quote as PDF, for whoever may see its qualified lead."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from leadflow.opportunities.models import Quote
from leadflow.opportunities.pdf import render_quote_pdf
from leadflow.opportunities.queries import get_opportunity_for_user


@login_required
@require_GET
def quote_pdf(request, quote_id: int):
    quote = get_object_or_404(Quote, pk=quote_id)
    # 404, not 403, for a quote on a lead the user may not see: ids leak nothing.
    # The lead comes with its owner, contact and company, which the document shows.
    quote.opportunity = get_opportunity_for_user(request.user, quote.opportunity_id)
    response = HttpResponse(render_quote_pdf(quote), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{quote.reference}.pdf"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
