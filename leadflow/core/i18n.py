"""Django's own strings that its Dutch catalogue lacks, kept in ours so they are translated.

makemessages only collects strings from this project, so these are listed with gettext_noop;
LOCALE_PATHS is searched before Django's catalogues, so locale/nl supplies the translation.
"""

from django.utils.translation import gettext_noop

DJANGO_MSGIDS = (
    # django.db.models.fields.BLANK_CHOICE_LABEL: the empty choice of every select (Django 6.1).
    gettext_noop("- Select an option -"),
)
