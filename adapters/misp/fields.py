"""The shared pop-and-audit JSON reader, taught the value forms MISP writes.

MISP writes numbers and codes as strings ("3", "1513948642") but other producers of the same
format (PyMISP scripts, older instances, the ZeroMQ and Kafka plugins) write plain integers,
and booleans as true/false, 0/1 or "0"/"1". ``adapters.json_fields.JsonFields`` reads strings
and numbers; this subclass adds those two forms and MISP's two ways of attaching tags, so every
fault still names its JSON path.
"""

from __future__ import annotations

from typing import Any, cast

from adapters.json_fields import JsonFields, json_type
from adapters.misp.distribution import Tag

_TRUE = (True, 1, "1", "true")
_FALSE = (False, 0, "0", "false")


class MispFields(JsonFields):
    def child(self, key: str) -> MispFields:
        return cast(MispFields, super().child(key))

    def elements(self, key: str) -> list[MispFields]:
        """``children``, typed as what they are: MISP fields too."""
        return cast(list[MispFields], self.children(key))

    def has(self, key: str) -> bool:
        return key in self._rest

    def raw(self, key: str) -> Any:
        """The value as parsed, for parts read by a schema of their own (a sharing group)."""
        return self._rest.pop(key, None)

    def code(self, key: str) -> str | None:
        """A code or count, written as a string of digits or as a JSON integer."""
        value = self._rest.pop(key, None)
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return self._text(value, self.at(key))

    def flag(self, key: str) -> bool | None:
        value = self._rest.pop(key, None)
        if value is None:
            return None
        if isinstance(value, bool | int | str) and value in _TRUE:
            return True
        if isinstance(value, bool | int | str) and value in _FALSE:
            return False
        shown = f" {value!r}"[:40] if isinstance(value, int | str) else ""
        raise self.error(self.at(key), f"expected a boolean, found {json_type(value)}{shown}")

    def tags(self) -> tuple[list[Tag], list[Tag]]:
        """(exported, local) tags of this element, from ``Tag`` or ``/events/index``'s ``EventTag``.

        A local or non-exportable tag was never meant to leave its MISP instance: it still
        restricts (a marking is a marking wherever it came from) but is never published as a
        topic.
        """
        exported: list[Tag] = []
        local: list[Tag] = []
        for tag in self.elements("Tag"):
            self._tag(tag, tag, exported, local)
        for link in self.elements("EventTag"):
            self._tag(link.child("Tag"), link, exported, local)
            link.ignore("id", "event_id", "tag_id", "relationship_type")
            link.audit()
        return exported, local

    @staticmethod
    def _tag(tag: MispFields, link: MispFields, exported: list[Tag], local: list[Tag]) -> None:
        name = tag.required_text("name")
        stays = (
            tag.flag("exportable") is False,
            tag.flag("local_only"),
            tag.flag("local"),
            link is not tag and link.flag("local"),
        )
        (local if any(stays) else exported).append(Tag(tag.at("name"), name))
        tag.ignore(*_TAG_DISPLAY)
        tag.audit()

    def _object(self, value: Any, where: str) -> MispFields:
        if not isinstance(value, dict):
            raise self.error(where, f"expected an object, found {json_type(value)}")
        return MispFields(value, where, self._ctx, self._blanks)


_TAG_DISPLAY = (
    "id",
    "colour",
    "hide_tag",
    "user_id",
    "org_id",
    "numerical_value",
    "is_galaxy",
    "is_custom_galaxy",
    "inherited",
    "relationship_type",
    "count",
    "attribute_count",
    "favourite",
)
"""How a MISP instance shows and files a tag: nothing a recipient needs from it."""
