"""API schemas shared by every app's staff API."""

import datetime
from typing import Any

from ninja import Schema


class Message(Schema):
    """An error or notice answer: {"detail": "…"}."""

    detail: str


class ChangeOut(Schema):
    field: str
    old: Any = None
    new: Any = None
    by: str
    at: datetime.datetime
    revision: int


class Conflict(Schema):
    """A stale edit (409): `revision` is the current one, `changes` what happened since `based_on`."""

    detail: str
    revision: int
    based_on: int
    fields: list[str]
    changes: list[ChangeOut]
