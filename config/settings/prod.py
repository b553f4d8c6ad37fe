"""Production: PostgreSQL via DATABASE_URL, secrets required, HTTPS everywhere."""

from config.env import env_bool, env_int, env_str
from config.settings.base import *  # noqa: F403
from config.settings.base import build_mailers

SECRET_KEY = env_str("SECRET_KEY")  # no default: refuse to start without one
DEBUG = False
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
if not SECURE_HSTS_PRELOAD:
    # Preloading is a commitment for the whole domain that only its owner can make
    # (hstspreload.org); a self-hosted install opts in with SECURE_HSTS_PRELOAD=true.
    SILENCED_SYSTEM_CHECKS = ["security.W021"]

# Production mails for real: SMTP unless EMAIL_BACKEND says otherwise.
MAILERS = build_mailers("django.core.mail.backends.smtp.EmailBackend")
