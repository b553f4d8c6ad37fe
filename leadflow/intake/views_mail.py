"""The download of an inquiry's e-mail attachments (seen by whoever sees the inquiry)."""

from django.contrib.auth.decorators import login_required
from django.http import FileResponse
from django.shortcuts import get_object_or_404

from leadflow.intake.models import InquiryAttachment
from leadflow.intake.queries import get_inquiry_for_user


@login_required
def inquiry_attachment_download(request, attachment_id: int):
    """Always a download (never rendered by the browser): attachment disposition,
    nosniff and a sandboxing CSP, as for a qualified lead's documents."""
    attachment = get_object_or_404(
        InquiryAttachment.objects.exclude(file=""), pk=attachment_id
    )
    get_inquiry_for_user(request.user, attachment.inquiry_id)
    response = FileResponse(
        attachment.file.open("rb"), as_attachment=True, filename=attachment.name
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
