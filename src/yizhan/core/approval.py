"""Maker-checker, one mechanism for every app: above a threshold, what one person made waits until a
second person approves it; the maker cannot approve their own. A model declares which of its fields
hold the state, the maker, the checker and the time of the check:

    BROADCASTS = Approval(pending="pending")                       # created_by / decided_by / decided_at
    if BROADCASTS.required(len(users), settings.YIZHAN_NOTIFY_APPROVAL_ABOVE): ...wait...
    with transaction.atomic():
        broadcast = BROADCASTS.approve(broadcast, actor=user, to="sent", action="notify.broadcast_approved",
                                       own=_("You wrote this message; a second person must approve it."))
        ...the side effect (send it), in the same transaction...

`approve` and `reject` lock the row, check that it is still pending (a second click, or two
checkers at once, find it decided), check the maker, write the new state with the checker and the
time, and record the audit event. Permissions (who may check at all) stay with the caller.
"""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _


@dataclass(frozen=True)
class Approval:
    pending: str  # the state that awaits a checker
    maker: str = "created_by"
    checker: str = "decided_by"
    checked_at: str = "decided_at"
    state: str = "state"
    error_field: str = ""  # the field a "not awaiting approval" error names (default: the state's)

    @staticmethod
    def required(size, threshold) -> bool:
        """Above the threshold (a count of recipients, an amount) a second person approves."""
        return size > threshold

    def approve(self, obj, *, actor, to: str, action: str, own: str | None = None, unit=None,
                check=None, snapshot=None):  # fmt: skip
        """The checker approves; the maker may not (`own` is the message that tells them).
        `check(locked)` may refuse with a ValidationError after the row is locked (a rule of the
        caller's); `snapshot(obj) -> dict` makes the audit diff the change of that snapshot
        instead of the state alone."""
        return self._decide(obj, actor=actor, to=to, action=action, unit=unit, check=check, snapshot=snapshot,
                            own=own or _("You made this; a second person must approve it."))  # fmt: skip

    def reject(self, obj, *, actor, to: str, action: str, unit=None, check=None, snapshot=None):
        """A checker turns it down (or the maker withdraws it: no second person is needed for that)."""
        return self._decide(obj, actor=actor, to=to, action=action, unit=unit, check=check, snapshot=snapshot,
                            own=None)  # fmt: skip

    def _decide(self, obj, *, actor, to, action, own, unit, check, snapshot):
        from yizhan.audit.services import diff, record

        with transaction.atomic():
            locked = type(obj)._default_manager.select_for_update().get(pk=obj.pk)
            if getattr(locked, self.state) != self.pending:
                raise ValidationError({self.error_field or self.state: _("This is not awaiting approval.")})
            if own is not None and getattr(locked, f"{self.maker}_id") == actor.pk:
                raise ValidationError({self.checker: own})
            if check is not None:
                check(locked)
            before = snapshot(locked) if snapshot else None
            setattr(locked, self.state, to)
            setattr(locked, self.checker, actor)
            setattr(locked, self.checked_at, timezone.now())
            locked.save(update_fields=[self.state, self.checker, self.checked_at])
            changes = diff(before, snapshot(locked)) if snapshot else {self.state: [self.pending, to]}
            record(action, locked, actor=actor, unit=unit, changes=changes)
        return locked
