"""Domain errors: a stable code, a translated message and the HTTP status they map to."""

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    """A rule of the domain refused the operation; nothing was written."""

    status = 422
    code = "invalid"
    default_message = _("The request breaks a rule.")

    def __init__(self, message=None, *, code: str | None = None, **params):
        self.message = message if message is not None else self.default_message
        if code is not None:
            self.code = code
        self.params = params
        super().__init__(str(self.message))

    def __str__(self) -> str:
        text = str(self.message)
        return text % self.params if self.params else text


class ValidationFailed(DomainError):
    status = 422
    code = "invalid"


class Conflict(DomainError):
    """The record changed or is in a state that forbids the operation."""

    status = 409
    code = "conflict"
    default_message = _("The record was changed by someone else. Reload and try again.")


class Forbidden(DomainError):
    status = 403
    code = "forbidden"
    default_message = _("You may not do this.")
