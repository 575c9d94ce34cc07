"""Withholding marked fields of a notice's body from recipients not cleared to see them.

Paths follow STIX 2.1 granular-marking selectors, relative to ``body``: field names joined by
dots, list elements written ``[N]`` (``subject.identity_documents``, ``indicators.[2]``,
``subject.names.[0].full_name``).

What takes a redacted field's place, chosen so that the copy still validates against the models:

- a field with a default (every optional field, most lists, a few enums) gets its default:
  None, an empty list, UNKNOWN;
- a required string becomes ``[REDACTED]``, a required list becomes empty, and a required
  record has each of its own fields redacted by these same rules;
- a list element is replaced by a blank element of its kind (``[REDACTED]`` for a string, a
  record redacted field by field), not removed. Removing it would shift the elements after it,
  so the copy's own field markings would point at the wrong elements, and a consumer deciding
  again on the copy (defence in depth) would redact or withhold the wrong things.

Anything else (a required number or enum, a country code or enum inside a list, a date span)
has no redacted form that validates: such a path is *unredactable*, and the decision withholds
the notice from whoever would need it redacted.

The copy keeps the notice's ``field_markings`` as they were. With its own profile they tell the
recipient which fields were withheld from it and why, and deciding again on the copy gives the
same decision and redacting it again changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import StrEnum

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from broker.models import Body, NoticeEnvelope

REDACTED = "[REDACTED]"

_INDEX = re.compile(r"\[(0|[1-9][0-9]*)\]")


class PathProblem(StrEnum):
    UNRESOLVABLE = "unresolvable"
    """The path leads nowhere in this body: no such field, or an index past the list's end."""
    UNREDACTABLE = "unredactable"
    """The path leads to something that has no redacted form the models accept."""


class _Problem(Exception):
    def __init__(self, kind: PathProblem) -> None:
        self.kind = kind
        super().__init__(kind)


def path_problem(body: Body, path: str) -> PathProblem | None:
    """Why ``path`` cannot be redacted in ``body``, or None when it can."""
    try:
        _redacted(body, _segments(path))
    except _Problem as problem:
        return problem.kind
    return None


def redact(notice: NoticeEnvelope, paths: Iterable[str]) -> NoticeEnvelope:
    """A copy of ``notice`` with each of ``paths`` inside its body redacted.

    A path inside another of ``paths`` goes with the outer one. A path that leads nowhere in
    this body is skipped: there is nothing under that name to withhold. A path to something
    that cannot be redacted raises ValueError rather than let it through; ``decide`` never asks
    for one, it withholds the notice instead.
    """
    body: BaseModel = notice.body
    for path in sorted(outermost(paths)):  # sorted: the same paths always give the same copy
        try:
            body = _redacted(body, _segments(path))
        except _Problem as problem:
            if problem.kind is PathProblem.UNREDACTABLE:
                raise ValueError(
                    f"notice {notice.notice_id}: {path!r} cannot be redacted and stay valid"
                ) from problem
    return notice.model_copy(update={"body": body})


def outermost(paths: Iterable[str]) -> list[str]:
    """The paths not inside another of ``paths``, each once, in their order.

    Redacting the outer one withholds everything in it, whether or not the inner path could be
    redacted alone or still leads anywhere in the copy.
    """
    unique = list(dict.fromkeys(paths))
    return [path for path in unique if not any(path.startswith(f"{outer}.") for outer in unique)]


def _segments(path: str) -> tuple[str | int, ...]:
    return tuple(
        int(index[1]) if (index := _INDEX.fullmatch(part)) else part for part in path.split(".")
    )


def _redacted(value: object, segments: tuple[str | int, ...]) -> BaseModel:
    """``value`` rebuilt with the place ``segments`` lead to redacted; raises _Problem."""
    head, rest = segments[0], segments[1:]
    if not isinstance(value, BaseModel) or not isinstance(head, str):
        raise _Problem(PathProblem.UNRESOLVABLE)
    field = type(value).model_fields.get(head)
    if field is None:
        raise _Problem(PathProblem.UNRESOLVABLE)
    current = getattr(value, head)
    if not rest:
        return _rebuilt(value, {head: _blank_field(field, current)})
    if not isinstance(rest[0], int):
        return _rebuilt(value, {head: _redacted(current, rest)})
    index, inner = rest[0], rest[1:]
    if not isinstance(current, list) or index >= len(current):
        raise _Problem(PathProblem.UNRESOLVABLE)
    element = _redacted(current[index], inner) if inner else _blank(current[index])
    return _rebuilt(value, {head: [*current[:index], element, *current[index + 1 :]]})


def _blank_field(field: FieldInfo, value: object) -> object:
    if field.is_required():
        return _blank(value)
    return field.get_default(call_default_factory=True)


def _blank(value: object) -> object:
    if isinstance(value, str):  # enums too: the parent's validation then refuses the string
        return REDACTED
    if isinstance(value, list):
        return []
    if isinstance(value, BaseModel):
        fields = type(value).model_fields.items()
        return _rebuilt(value, {name: _blank_field(f, getattr(value, name)) for name, f in fields})
    raise _Problem(PathProblem.UNREDACTABLE)


def _rebuilt(model: BaseModel, changes: dict[str, object]) -> BaseModel:
    try:
        return type(model).model_validate({**dict(model), **changes})
    except ValidationError as err:
        raise _Problem(PathProblem.UNREDACTABLE) from err
