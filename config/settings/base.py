"""Settings shared by every environment; values come from the environment."""

from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from config.env import env_bool, env_int, env_list, env_str, load_dotenv

BASE_DIR = Path(__file__).resolve().parent.parent.parent
load_dotenv(BASE_DIR / ".env")

SECRET_KEY = env_str("SECRET_KEY", "insecure-embedded-default-change-me")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_tasks_db",
    "axes",
    "ninja",
    "leadflow.core",
    "leadflow.accounts",
    "leadflow.audit",
    "leadflow.contacts",
    "leadflow.marketing",
    "leadflow.qualification",
    "leadflow.opportunities",
    "leadflow.intake",
    "leadflow.workflows",
    "leadflow.analytics",
    "leadflow.imports",
    "leadflow.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "leadflow.accounts.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "leadflow.core.middleware.DatabaseErrorMiddleware",
    "leadflow.api.middleware.RefuseNulMiddleware",
    "leadflow.api.idempotency.IdempotencyMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "leadflow.core.context_processors.navigation",
            ],
        },
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers and the worker run beside a writer; IMMEDIATE avoids
    # deadlocking upgrades from read to write locks inside transactions.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
            "PRAGMA foreign_keys=ON; PRAGMA cache_size=-64000;"
        ),
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "leadflow.accounts.lockout.lockout_response"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("nl", _("Dutch"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = env_str("TIME_ZONE", "Europe/Brussels")

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# static_vendor/: files copied from npm packages at install time (scripts/ensure-assets.sh).
STATICFILES_DIRS = [BASE_DIR / "static", ("vendor", BASE_DIR / "static_vendor")]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


# E-mail through Django 6.1's MAILERS (the EMAIL_* settings are deprecated there);
# the environment variables keep their familiar EMAIL_* names.
def build_mailers(default_backend: str) -> dict:
    """MAILERS from EMAIL_BACKEND / EMAIL_HOST / ... (SMTP options only for SMTP)."""
    backend = env_str("EMAIL_BACKEND", default_backend)
    options = (
        {
            "host": env_str("EMAIL_HOST", "localhost"),
            "port": env_int("EMAIL_PORT", 25),
            "username": env_str("EMAIL_HOST_USER", ""),
            "password": env_str("EMAIL_HOST_PASSWORD", ""),
            "use_tls": env_bool("EMAIL_USE_TLS", False),
        }
        if backend.endswith("smtp.EmailBackend")
        else {}
    )
    return {"default": {"BACKEND": backend, "OPTIONS": options}}


MAILERS = build_mailers("django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "leadflow@localhost")

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the cookie-less meta tag
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

from django.utils.csp import CSP  # noqa: E402

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}

# Leadflow's own settings.
LEADFLOW_COMPANY_NAME = env_str("LEADFLOW_COMPANY_NAME", "Leadflow")
# The address people open Leadflow at (links in e-mails).
LEADFLOW_BASE_URL = env_str("LEADFLOW_BASE_URL", "http://127.0.0.1:8000")
LEADFLOW_DEFAULT_COUNTRY = env_str("LEADFLOW_DEFAULT_COUNTRY", "BE")
# An inquiry should be closed within the working day (SPEC step 2).
LEADFLOW_TRIAGE_TARGET_HOURS = env_int("LEADFLOW_TRIAGE_TARGET_HOURS", 9)  # one day
LEADFLOW_API_TOKEN_DAYS = env_int("LEADFLOW_API_TOKEN_DAYS", 365)
# Analyses that take longer than LEADFLOW_ANALYTICS_CACHE_MS to compute are kept and
# served for up to LEADFLOW_ANALYTICS_MAX_AGE seconds ("Refresh" recomputes); the
# worker refreshes the default views every 10 minutes (leadflow/analytics/cache.py).
LEADFLOW_ANALYTICS_CACHE_MS = env_int("LEADFLOW_ANALYTICS_CACHE_MS", 500)
LEADFLOW_ANALYTICS_MAX_AGE = env_int("LEADFLOW_ANALYTICS_MAX_AGE", 900)
# The task that reads the workflow outbox (transition rows) after each commit.
LEADFLOW_OUTBOX_TASK = "leadflow.workflows.tasks.process_outbox"

# Data in (issue 6). Imports: the biggest file accepted, and up to which size the
# check runs while the page waits (bigger files are checked by the worker).
LEADFLOW_IMPORT_MAX_BYTES = env_int("LEADFLOW_IMPORT_MAX_BYTES", 200 * 1024 * 1024)
LEADFLOW_IMPORT_INLINE_CHECK_BYTES = env_int(
    "LEADFLOW_IMPORT_INLINE_CHECK_BYTES", 2 * 1024 * 1024
)
# Public web forms: submissions per visitor address per hour (per form, all forms),
# the least seconds between showing a form and sending it (faster is a bot), and the
# reverse proxies whose X-Forwarded-For is believed (loopback always is).
LEADFLOW_WEBFORM_RATE_PER_HOUR = env_int("LEADFLOW_WEBFORM_RATE_PER_HOUR", 5)
LEADFLOW_WEBFORM_RATE_PER_HOUR_ALL_FORMS = env_int(
    "LEADFLOW_WEBFORM_RATE_PER_HOUR_ALL_FORMS", 20
)
LEADFLOW_WEBFORM_MIN_SECONDS = env_int("LEADFLOW_WEBFORM_MIN_SECONDS", 2)
LEADFLOW_TRUSTED_PROXIES = env_list("LEADFLOW_TRUSTED_PROXIES", [])
# E-mail intake over HTTP (POST /api/intake/mail): the biggest raw message.
LEADFLOW_MAIL_MAX_BYTES = env_int("LEADFLOW_MAIL_MAX_BYTES", 25 * 1024 * 1024)
NINJA_PAGINATION_PER_PAGE = 50
NINJA_PAGINATION_MAX_PER_PAGE_SIZE = 200
# The letterhead of quote PDFs (besides LEADFLOW_COMPANY_NAME). The address is several
# lines: real newlines or a literal \n between them (a .env value is one line).
LEADFLOW_COMPANY_ADDRESS = env_str("LEADFLOW_COMPANY_ADDRESS", "").replace("\\n", "\n")
LEADFLOW_COMPANY_VAT = env_str("LEADFLOW_COMPANY_VAT", "")
LEADFLOW_COMPANY_IBAN = env_str("LEADFLOW_COMPANY_IBAN", "")
LEADFLOW_COMPANY_EMAIL = env_str("LEADFLOW_COMPANY_EMAIL", "")
LEADFLOW_COMPANY_PHONE = env_str("LEADFLOW_COMPANY_PHONE", "")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django_tasks": {"level": "WARNING"}},
}
