"""``GET /calendar/<secret>.ics``: a user's activities for their calendar app.

No login (calendar apps cannot log in): the secret in the URL is the credential.
Unknown or revoked secrets answer 404; each secret, and each address asking for
secrets that do not exist, is rate-limited (429 with Retry-After).
"""

import hashlib

from django.core.cache import cache
from django.http import Http404, HttpResponse
from django.views.decorators.http import require_GET

from leadflow.core.visitors import client_ip, hash_ip
from leadflow.opportunities.ical import build_calendar, feed_activities, feed_for_secret

# A calendar app fetches a feed every 15 minutes to a few hours; these leave ample
# room for that and for a person pressing "refresh".
FEED_LIMIT = 60  # fetches of one feed
MISS_LIMIT = 30  # unknown secrets from one address
WINDOW = 600  # seconds


def _over(key: str, limit: int) -> bool:
    if cache.add(key, 1, WINDOW):
        return False
    try:
        return cache.incr(key) > limit
    except ValueError:  # expired between add and incr
        cache.add(key, 1, WINDOW)
        return False


def _too_many() -> HttpResponse:
    response = HttpResponse(
        "Too many requests.", status=429, content_type="text/plain; charset=utf-8"
    )
    response["Retry-After"] = str(WINDOW)
    return response


@require_GET
def calendar_feed(request, secret: str):
    digest = hashlib.sha256(secret.encode()).hexdigest()[:32]
    if _over(f"ical-feed:{digest}", FEED_LIMIT):
        return _too_many()
    feed = feed_for_secret(secret)
    if feed is None:
        if _over(f"ical-miss:{hash_ip(client_ip(request))}", MISS_LIMIT):
            return _too_many()
        raise Http404
    user = feed.user
    body = build_calendar(
        user,
        feed_activities(user).iterator(chunk_size=2000),
        base_url=request.build_absolute_uri("/").rstrip("/"),
        host=request.get_host().split(":")[0],
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="leadflow.ics"'
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex"
    return response
