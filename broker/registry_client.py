"""The few calls of the Confluent Schema Registry REST API a producer and a reader need.

Any registry that speaks this API serves: Confluent's own, Apicurio's ``/apis/ccompat/v7``,
Karapace, Redpanda's. The client is synchronous (httpx2): producers call it once per subject
and readers once per schema id they have not met, after which both work from their caches, so
an async client would only add an event loop to every caller for a handful of requests. Each
failure is a typed error naming the registry and the request, never an httpx2 exception.

Requests that send JSON use the registry's own media type, as Confluent's clients do; some
registries refuse plain ``application/json`` on writes.
"""

from __future__ import annotations

from typing import Any, Final, Literal
from urllib.parse import quote

import httpx2

from broker.errors import IncompatibleSchema, RegistryRefused, RegistryUnavailable

CONTENT_TYPE: Final = "application/vnd.schemaregistry.v1+json"
_INCOMPATIBLE: Final = 409
_NOT_FOUND: Final = 404

Compatibility = Literal[
    "NONE",
    "BACKWARD",
    "BACKWARD_TRANSITIVE",
    "FORWARD",
    "FORWARD_TRANSITIVE",
    "FULL",
    "FULL_TRANSITIVE",
]


class SchemaRegistryClient:
    """A registry at ``url``: the base of its Confluent-compatible API, e.g.
    ``http://127.0.0.1:8081`` for Confluent's, ``http://host/apis/ccompat/v7`` for Apicurio's.

    ``timeout`` bounds every request, connecting included: a producer that finds the registry
    down learns it within that time rather than hanging its service.
    """

    def __init__(self, url: str, *, timeout: float = 5.0) -> None:
        self.url = url.rstrip("/")
        self._http = httpx2.Client(
            base_url=self.url,
            timeout=timeout,
            headers={"Accept": f"{CONTENT_TYPE}, application/json"},
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> SchemaRegistryClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def register(self, subject: str, schema: str) -> int:
        """The id of ``schema`` (Avro JSON text) under ``subject``, registering it if new.

        A schema the subject's compatibility mode refuses raises :class:`IncompatibleSchema`
        carrying the registry's own explanation.
        """
        body = {"schemaType": "AVRO", "schema": schema}
        path = f"/subjects/{_segment(subject)}/versions"
        response = self._request("POST", path, body, refusals=(_INCOMPATIBLE,))
        if response.status_code == _INCOMPATIBLE:
            raise IncompatibleSchema(
                against=f"subject {subject} at {self.url}", reasons=(_message(response),)
            )
        return int(response.json()["id"])

    def schema(self, schema_id: int) -> str | None:
        """The Avro JSON text the registry holds under ``schema_id``; None if it has none.

        Schemas with references to other subjects are not resolved: no writer of notices
        registers any, since every named type is defined inline.
        """
        path = f"/schemas/ids/{schema_id}"
        response = self._request("GET", path, refusals=(_NOT_FOUND,))
        if response.status_code == _NOT_FOUND:
            return None
        payload = response.json()
        if payload.get("references"):
            raise RegistryRefused(
                url=self.url,
                request=f"GET {path}",
                status=response.status_code,
                error_code=None,
                message="the schema has references to other subjects, which readers of "
                "notices do not resolve",
            )
        return str(payload["schema"])

    def set_compatibility(self, subject: str, level: Compatibility) -> None:
        """Set ``subject``'s own compatibility mode; registries accept it before the first
        version, so no schema is ever registered under a weaker mode than ``level``."""
        self._request("PUT", f"/config/{_segment(subject)}", {"compatibility": level})

    def compatibility(self, subject: str) -> str:
        """The mode the registry enforces for ``subject`` (its own, else the global one)."""
        path = f"/config/{_segment(subject)}"
        response = self._request("GET", path, params={"defaultToGlobal": "true"})
        return str(response.json()["compatibilityLevel"])

    def _request(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        params: dict[str, str] | None = None,
        refusals: tuple[int, ...] = (),
    ) -> httpx2.Response:
        """``refusals`` are error statuses the caller turns into its own answer."""
        request = f"{method} {path}"
        headers = {"Content-Type": CONTENT_TYPE} if body is not None else {}
        try:
            response = self._http.request(method, path, json=body, params=params, headers=headers)
        except httpx2.TransportError as exc:
            raise RegistryUnavailable(
                url=self.url, request=request, reason=f"no answer: {exc!r}"
            ) from exc
        if response.is_success or response.status_code in refusals:
            return response
        raise RegistryRefused(
            url=self.url,
            request=request,
            status=response.status_code,
            error_code=_error_code(response),
            message=_message(response),
        )


def _segment(name: str) -> str:
    """A subject as one path segment: topic names may hold dots, never slashes, but the
    registry would read any ``/`` or ``?`` as structure."""
    return quote(name, safe="")


def _error_body(response: httpx2.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _error_code(response: httpx2.Response) -> int | None:
    code = _error_body(response).get("error_code")
    return code if isinstance(code, int) else None


def _message(response: httpx2.Response) -> str:
    """The registry's ``message``, or its raw text when the error is not Confluent-shaped."""
    message = _error_body(response).get("message")
    return str(message) if message else response.text.strip() or response.reason_phrase
