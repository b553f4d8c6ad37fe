"""The one helper every state change goes through.

A transition is applied with a conditional UPDATE (``WHERE pk = … AND <state> = from``),
so two people acting on the same record at once cannot both succeed: the loser sees
zero rows updated and gets a Conflict. The transition row is written in the same
transaction and is the record's history, the workflow outbox and the analytics source.
"""

from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from leadflow.core.errors import Conflict


def apply_transition(
    obj: models.Model,
    *,
    field: str,
    allowed_from: Iterable[str],
    to: str,
    changes: dict[str, Any],
    transition_model: type[models.Model],
    transition_fields: dict[str, Any],
    conflict: Conflict,
    after_commit: Iterable[Callable[[], None]] = (),
    at=None,
) -> models.Model:
    """Move ``obj.<field>`` to ``to`` if it is still in ``allowed_from``.

    ``changes`` are the other columns written with the move. The transition is dated
    ``at`` (history written later, e.g. by an import) or now. Returns the transition
    row. Must run inside ``transaction.atomic``.
    """
    allowed_from = list(allowed_from)
    model = type(obj)
    values = {field: to, **changes}
    if hasattr(obj, "version"):
        values["version"] = models.F("version") + 1
    updated = model._default_manager.filter(
        pk=obj.pk, **{f"{field}__in": allowed_from}
    ).update(**values)
    if updated != 1:
        raise conflict
    from_state = getattr(obj, field)
    obj.refresh_from_db()
    row = record_transition(
        transition_model,
        from_state=from_state,
        to_state=to,
        at=at or timezone.now(),
        **transition_fields,
    )
    for callback in after_commit:
        transaction.on_commit(callback)
    return row


def record_transition(transition_model: type[models.Model], **fields) -> models.Model:
    """Write a transition row and wake the workflow worker once the transaction commits.

    Transition rows are the outbox: the worker evaluates notification rules on every
    row whose ``processed_at`` is empty, so nothing is lost if the wake-up is."""
    row = transition_model._default_manager.create(**fields)
    wake_outbox_on_commit()
    return row


def wake_outbox_on_commit() -> None:
    """Wake the worker after this transaction commits (once per transaction: the worker
    handles every pending outbox row anyway)."""
    connection = transaction.get_connection()
    if not any(func is wake_outbox for _ids, func, _robust in connection.run_on_commit):
        transaction.on_commit(wake_outbox)


def wake_outbox() -> None:
    task_path = getattr(settings, "LEADFLOW_OUTBOX_TASK", "")
    if task_path:
        import_string(task_path).enqueue()
