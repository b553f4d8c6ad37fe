"""Embedded default: SQLite, console e-mail, DEBUG only when asked for."""

from config.settings.base import *  # noqa: F403
from config.settings.base import STORAGES

STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
