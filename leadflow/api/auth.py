"""API authentication: a bearer token (stored hashed) or the browser session (with CSRF)."""

from ninja.security import APIKeyCookie, HttpBearer

from leadflow.accounts.tokens import user_for_token


class BearerToken(HttpBearer):
    openapi_description = (
        "A token from POST /api/auth/token or manage.py create_api_token."
    )

    def authenticate(self, request, token):
        user = user_for_token(token)
        if user is not None:
            request.user = user
        return user


class BrowserSession(APIKeyCookie):
    """The logged-in browser session; ninja checks the CSRF token on unsafe methods."""

    param_name = "sessionid"

    def __init__(self):
        super().__init__(csrf=True)

    def authenticate(self, request, key):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_active:
            return user
        return None


API_AUTH = [BearerToken(), BrowserSession()]
