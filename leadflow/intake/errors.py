from django.utils.translation import gettext_lazy as _

from leadflow.core.errors import Conflict


class InquiryClosed(Conflict):
    code = "inquiry_closed"
    default_message = _(
        "This inquiry is already closed and can never be changed or reopened. "
        "Register a new inquiry for a new question."
    )
