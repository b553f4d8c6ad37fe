"""The IMAP side of e-mail intake: fetch unseen messages, ingest each, then flag it.

A message is marked ``\\Seen`` (and moved to ``LEADFLOW_IMAP_PROCESSED_FOLDER`` when
set) only after its database transaction committed. A crash in between leaves it
unseen: the next poll fetches it again and ``ingest_message`` finds its Message-ID,
so nothing is registered twice. One message that fails (unreadable, refused, a bug)
is recorded as failed and flagged; the others go on.

Settings (``settings.LEADFLOW_IMAP_*`` when defined, else the environment):
HOST (unset: polling is off), PORT (993 with SSL, else 143), USER, PASSWORD,
FOLDER (INBOX), SSL (true/false, default true), PROCESSED_FOLDER (optional).
"""

import imaplib
import logging
import os
import ssl
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_str
from leadflow.accounts.models import User
from leadflow.intake.mail import ingest_message, record_unreadable
from leadflow.intake.models import MailSource, MailStatus

logger = logging.getLogger(__name__)

MAX_PER_RUN = 200  # messages per poll; the rest wait for the next run (2 minutes)
TIMEOUT = 30  # seconds for the connection and each command


@dataclass(frozen=True)
class ImapConfig:
    host: str
    user: str
    password: str = field(repr=False)
    port: int = 993
    folder: str = "INBOX"
    use_ssl: bool = True
    processed_folder: str = ""


def _setting(name: str, read):
    value = getattr(settings, name, None)
    return read(name) if value is None else value


def imap_config() -> ImapConfig | None:
    """The mailbox to poll, or None when LEADFLOW_IMAP_HOST is not set."""
    host = _setting("LEADFLOW_IMAP_HOST", lambda n: env_str(n, ""))
    if not host:
        return None
    use_ssl = _setting("LEADFLOW_IMAP_SSL", lambda n: env_bool(n, True))
    user = _setting("LEADFLOW_IMAP_USER", lambda n: env_str(n, ""))
    if not user:
        raise ImproperlyConfigured("Set LEADFLOW_IMAP_USER for LEADFLOW_IMAP_HOST.")
    return ImapConfig(
        host=host,
        user=user,
        password=_setting("LEADFLOW_IMAP_PASSWORD", lambda n: env_str(n, "")),
        port=int(
            _setting(
                "LEADFLOW_IMAP_PORT", lambda n: env_int(n, 993 if use_ssl else 143)
            )
        ),
        folder=_setting("LEADFLOW_IMAP_FOLDER", lambda n: env_str(n, "INBOX")),
        use_ssl=bool(use_ssl),
        processed_folder=_setting(
            "LEADFLOW_IMAP_PROCESSED_FOLDER", lambda n: env_str(n, "")
        ),
    )


@dataclass
class PollResult:
    fetched: int = 0
    created: int = 0
    known: int = 0  # already registered: a re-delivery after a crash
    ignored: int = 0
    failed: int = 0
    left_unseen: int = 0  # could not even be recorded: tried again next time

    def __str__(self) -> str:
        return (
            f"fetched={self.fetched} created={self.created} known={self.known} "
            f"ignored={self.ignored} failed={self.failed} "
            f"left_unseen={self.left_unseen}"
        )


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def connect(config: ImapConfig) -> imaplib.IMAP4:
    if config.use_ssl:
        client = imaplib.IMAP4_SSL(
            config.host,
            config.port,
            ssl_context=ssl.create_default_context(),
            timeout=TIMEOUT,
        )
    else:
        client = imaplib.IMAP4(config.host, config.port, timeout=TIMEOUT)
    client.login(config.user, config.password)
    return client


def _fetch(client: imaplib.IMAP4, uid: bytes) -> bytes | None:
    status, data = client.uid("FETCH", uid, "(BODY.PEEK[])")
    if status != "OK":
        return None
    for item in data:
        if isinstance(item, tuple) and len(item) == 2:
            return item[1]
    return None


def _done(client: imaplib.IMAP4, uid: bytes, config: ImapConfig) -> None:
    """Flag (and move) one message; called only after its transaction committed."""
    client.uid("STORE", uid, "+FLAGS.SILENT", r"(\Seen)")
    if not config.processed_folder:
        return
    target = _quote(config.processed_folder)
    if "MOVE" in client.capabilities:
        client.uid("MOVE", uid, target)
    else:
        status, _data = client.uid("COPY", uid, target)
        if status == "OK":
            client.uid("STORE", uid, "+FLAGS.SILENT", r"(\Deleted)")
            client.expunge()


def _ingest(raw: bytes, actor: User | None, result: PollResult) -> bool:
    """Ingest one message; False when it must stay unseen (nothing could be saved)."""
    try:
        mail, created = ingest_message(raw, source=MailSource.IMAP, actor=actor)
    except Exception as exc:  # one bad message must not stop the rest
        logger.warning("mail not ingested: %s", exc, exc_info=True)
        try:
            record_unreadable(raw, source=MailSource.IMAP, error=str(exc), actor=actor)
        except Exception:
            logger.exception("mail could not be recorded; left unseen")
            result.left_unseen += 1
            return False
        result.failed += 1
        return True
    if not created:
        result.known += 1
    elif mail.status == MailStatus.PROCESSED:
        result.created += 1
    elif mail.status == MailStatus.IGNORED:
        result.ignored += 1
    else:
        result.failed += 1
    return True


def poll_mailbox(
    config: ImapConfig | None = None,
    *,
    actor: User | None = None,
    limit: int = MAX_PER_RUN,
) -> PollResult:
    """Fetch the folder's unseen messages and register each as an inquiry once."""
    config = config or imap_config()
    if config is None:
        raise ImproperlyConfigured("Set LEADFLOW_IMAP_HOST to poll a mailbox.")
    result = PollResult()
    client = connect(config)
    try:
        status, data = client.select(_quote(config.folder))
        if status != "OK":
            raise imaplib.IMAP4.error(f"cannot open folder {config.folder}: {data}")
        status, data = client.uid("SEARCH", None, "UNSEEN")
        uids = (data[0] or b"").split() if status == "OK" and data else []
        for uid in uids[:limit]:
            raw = _fetch(client, uid)
            if raw is None:
                continue
            result.fetched += 1
            if _ingest(raw, actor, result):
                _done(client, uid, config)
    finally:
        try:
            client.logout()
        except (imaplib.IMAP4.error, OSError):
            pass
    logger.info("mailbox %s@%s: %s", config.user, config.host, result)
    return result


def run_scheduled(*, now: datetime | None = None) -> str:
    """The worker's ``poll_mailbox`` job: nothing at all when no mailbox is set."""
    if not (
        getattr(settings, "LEADFLOW_IMAP_HOST", None)
        or os.environ.get("LEADFLOW_IMAP_HOST", "")
    ):
        return "off"
    return str(poll_mailbox())
