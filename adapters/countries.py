"""Country names and codes as lists write them, into ISO 3166-1 alpha-2.

pycountry carries the ISO 3166 database (names, official names, alpha-3 codes) and its
withdrawn codes, so only the spellings it does not know live in ``countries.yml``. A name that
neither knows is not guessed: the caller counts it as unmapped and leaves the field empty.
"""

from __future__ import annotations

from functools import cache

import pycountry
from pydantic import BaseModel, ConfigDict

from adapters.lookups import load_mapping
from adapters.markings import fold
from broker.models import CountryCode


class _CountryTable(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    aliases: dict[str, CountryCode]


@cache
def _aliases() -> dict[str, str]:
    table = load_mapping(__package__ or "adapters", "countries.yml", _CountryTable)
    return {fold(name): code for name, code in table.aliases.items()}


@cache
def country_code(text: str) -> str | None:
    """The alpha-2 code of a country name or code, or None when nobody knows the name.

    Cached: lists repeat the same few hundred spellings hundreds of thousands of times.
    """
    cleaned = " ".join(text.replace("\u00a0", " ").split())
    if not cleaned:
        return None
    if found := _aliases().get(fold(cleaned)):
        return found
    try:
        return str(pycountry.countries.lookup(cleaned).alpha_2)
    except LookupError:
        pass
    try:
        return str(pycountry.historic_countries.lookup(cleaned).alpha_2)
    except LookupError:
        return None
