"""POST /api/auth/token: exchange a username and password for a bearer token."""

from django.contrib.auth import authenticate, user_logged_in
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from leadflow.accounts.tokens import issue_token
from leadflow.api.schemas import ErrorOut

router = Router(tags=["auth"])


class TokenIn(Schema):
    username: str = Field(..., min_length=1, max_length=150)
    password: str = Field(..., min_length=1, max_length=512)


class TokenOut(Schema):
    token: str
    expires_at: str | None = None


@router.post(
    "/auth/token", auth=None, response={200: TokenOut, 401: ErrorOut, 429: ErrorOut}
)
def create_token(request, payload: TokenIn):
    """Log in with a username and password; failed attempts are counted (lockout)."""
    user = authenticate(request, username=payload.username, password=payload.password)
    if getattr(request, "axes_locked_out", False):
        return Status(
            429,
            {
                "detail": _("Too many failed attempts. Try again later."),
                "code": "locked_out",
            },
        )
    if user is None or not user.is_active:
        return Status(
            401, {"detail": _("Wrong username or password."), "code": "bad_credentials"}
        )
    # Tell listeners a login happened: axes resets the failure count, Django stamps
    # last_login.
    user_logged_in.send(sender=user.__class__, request=request, user=user)
    token, key = issue_token(user, actor=user, name="api login")
    return {
        "token": key,
        "expires_at": token.expires_at.isoformat() if token.expires_at else None,
    }
