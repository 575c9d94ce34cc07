"""The canonical notice as pydantic models, one class per named type in schemas/*.avsc.

Adapters build these, the serde turns them into Avro and back. Field names, order, optionality
and defaults match the schemas exactly; ``tests/test_models_schemas.py`` checks every record
field by field so that the two cannot drift apart. Field documentation lives in the .avsc
files, the contract other languages read; it is not repeated here.

Models are frozen: a notice is a fact that was published, and code that wants a variant
(redaction, a new version) makes a copy with ``model_copy(update=...)``.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

CountryCode = Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
"""ISO 3166-1 alpha-2, upper case."""

HexSha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class AliasQuality(StrEnum):
    STRONG = "STRONG"
    WEAK = "WEAK"
    UNKNOWN = "UNKNOWN"


class Sex(StrEnum):
    MALE = "MALE"
    FEMALE = "FEMALE"
    UNKNOWN = "UNKNOWN"


class Level(StrEnum):
    """The common classification scale, lowest first."""

    UNCLASSIFIED = "UNCLASSIFIED"
    RESTRICTED = "RESTRICTED"
    CONFIDENTIAL = "CONFIDENTIAL"
    SECRET = "SECRET"
    TOP_SECRET = "TOP_SECRET"


class Tlp(StrEnum):
    CLEAR = "CLEAR"
    GREEN = "GREEN"
    AMBER = "AMBER"
    AMBER_STRICT = "AMBER_STRICT"
    RED = "RED"


class RequestedAction(StrEnum):
    ARREST = "ARREST"
    LOCATE = "LOCATE"
    INFORM = "INFORM"


class ThreatLevel(StrEnum):
    LOW = "LOW"
    MODERATE = "MODERATE"
    SUBSTANTIAL = "SUBSTANTIAL"
    SEVERE = "SEVERE"
    CRITICAL = "CRITICAL"
    UNKNOWN = "UNKNOWN"


class SourceReliability(StrEnum):
    A = "A"
    B = "B"
    C = "C"
    D = "D"
    E = "E"
    F = "F"


class SubjectKind(StrEnum):
    INDIVIDUAL = "INDIVIDUAL"
    ENTITY = "ENTITY"
    VESSEL = "VESSEL"
    AIRCRAFT = "AIRCRAFT"
    UNKNOWN = "UNKNOWN"


class Measure(StrEnum):
    ASSET_FREEZE = "ASSET_FREEZE"
    TRAVEL_BAN = "TRAVEL_BAN"
    ARMS_EMBARGO = "ARMS_EMBARGO"
    OTHER = "OTHER"


class MsgType(StrEnum):
    ALERT = "ALERT"
    UPDATE = "UPDATE"
    CANCEL = "CANCEL"


class NoticeType(StrEnum):
    WANTED_PERSON = "WANTED_PERSON"
    INTEL_BULLETIN = "INTEL_BULLETIN"
    FREEZE_ORDER = "FREEZE_ORDER"


class PartialDate(_Model):
    year: int = Field(ge=1, le=9999)
    month: int | None = Field(default=None, ge=1, le=12)
    day: int | None = Field(default=None, ge=1, le=31)
    approximate: bool = False

    @model_validator(mode="after")
    def _day_needs_month(self) -> PartialDate:
        if self.day is not None and self.month is None:
            raise ValueError("a partial date with a day must have a month")
        if self.day is not None and self.month is not None:
            dt.date(self.year, self.month, self.day)  # raises ValueError on 31 February
        return self

    def __str__(self) -> str:
        """ISO 8601 reduced precision ('1970', '1970-05'), '~' suffix when approximate (EDTF)."""
        text = f"{self.year:04d}"
        if self.month is not None:
            text += f"-{self.month:02d}"
        if self.day is not None:
            text += f"-{self.day:02d}"
        return text + ("~" if self.approximate else "")


class DateSpan(_Model):
    earliest: PartialDate
    latest: PartialDate | None = None


class Name(_Model):
    full_name: str = Field(min_length=1)
    given_names: str | None = None
    family_name: str | None = None
    script: str | None = Field(default=None, pattern=r"^[A-Z][a-z]{3}$")
    lang: str | None = None


class Alias(_Model):
    name: Name
    quality: AliasQuality = AliasQuality.UNKNOWN


class IdentityDocument(_Model):
    kind: str
    number: str
    issuing_country: CountryCode | None = None
    issued_on: PartialDate | None = None
    expires_on: PartialDate | None = None
    note: str | None = None


class FieldMarking(_Model):
    path: str
    level: Level
    caveats: list[str] = []


class Classification(_Model):
    level: Level
    national_marking: str | None = None
    tlp: Tlp
    releasable_to: list[str] = []
    not_releasable_to: list[str] = []
    originator_controlled: bool = False
    caveats: list[str] = []
    field_markings: list[FieldMarking] = []


class Originator(_Model):
    agency_id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    country: CountryCode | None = None


class Source(_Model):
    format: str
    original_id: str | None = None
    adapter: str
    adapter_version: str
    received_at: AwareDatetime
    sha256: HexSha256


class PhotoRef(_Model):
    uri: str
    sha256: HexSha256 | None = None


class PersonSubject(_Model):
    names: list[Name]
    aliases: list[Alias] = []
    sex: Sex = Sex.UNKNOWN
    dates_of_birth: list[DateSpan] = []
    place_of_birth: str | None = None
    country_of_birth: CountryCode | None = None
    nationalities: list[CountryCode] = []
    identity_documents: list[IdentityDocument] = []
    height_m: float | None = Field(default=None, gt=0)
    weight_kg: float | None = Field(default=None, gt=0)
    languages: list[str] = []
    description: str | None = None
    photos: list[PhotoRef] = []


class Charge(_Model):
    offence: str
    offence_translation: str | None = None
    legal_reference: str | None = None
    jurisdiction: CountryCode | None = None


class Warrant(_Model):
    authority: str | None = None
    issued_on: PartialDate | None = None
    reference: str | None = None


class LastSeen(_Model):
    date: PartialDate | None = None
    place: str | None = None
    country: CountryCode | None = None


class Relative(_Model):
    relation: str
    name: Name


class RelatedEntity(_Model):
    kind: str
    name: str
    ref: str | None = None


class WantedPersonNotice(_Model):
    subject: PersonSubject
    charges: list[Charge] = []
    warrant: Warrant | None = None
    requesting_country: CountryCode | None = None
    last_seen: LastSeen | None = None
    likely_destinations: list[CountryCode] = []
    relatives: list[Relative] = []
    related: list[RelatedEntity] = []
    action_requested: RequestedAction
    caution_flags: list[str] = []


class Indicator(_Model):
    kind: str
    value: str
    description: str | None = None


class IntelBulletin(_Model):
    title: str
    summary: str | None = None
    text: str | None = None
    threat_level: ThreatLevel = ThreatLevel.UNKNOWN
    topics: list[str] = []
    indicators: list[Indicator] = []
    related_entities: list[RelatedEntity] = []
    source_reliability: SourceReliability | None = None
    information_credibility: int | None = Field(default=None, ge=1, le=6)
    valid_from: AwareDatetime | None = None
    valid_until: AwareDatetime | None = None


class LegalAct(_Model):
    authority: str
    reference: str
    title: str | None = None
    url: str | None = None


class Address(_Model):
    full: str | None = None
    street: str | None = None
    city: str | None = None
    region: str | None = None
    postal_code: str | None = None
    country: CountryCode | None = None


class ListedSubject(_Model):
    kind: SubjectKind
    names: list[Name] = Field(min_length=1)
    aliases: list[Alias] = []
    sex: Sex = Sex.UNKNOWN
    dates_of_birth: list[DateSpan] = []
    places_of_birth: list[str] = []
    nationalities: list[CountryCode] = []
    identifiers: list[IdentityDocument] = []
    addresses: list[Address] = []


class FreezeOrder(_Model):
    legal_basis: list[LegalAct] = []
    listing_reference: str | None = None
    programmes: list[str] = []
    subject: ListedSubject
    measures: list[Measure] = []
    listed_on: dt.date | None = None
    amended_on: dt.date | None = None


class NoticeReference(_Model):
    notice_id: str
    version: int = Field(ge=1)


Body = WantedPersonNotice | IntelBulletin | FreezeOrder

BODY_TYPES: dict[NoticeType, type[Body]] = {
    NoticeType.WANTED_PERSON: WantedPersonNotice,
    NoticeType.INTEL_BULLETIN: IntelBulletin,
    NoticeType.FREEZE_ORDER: FreezeOrder,
}


class NoticeEnvelope(_Model):
    notice_id: str = Field(min_length=1)
    version: int = Field(ge=1)
    msg_type: MsgType
    references: list[NoticeReference] = []
    notice_type: NoticeType
    originator: Originator
    issued_at: AwareDatetime
    not_before: AwareDatetime | None = None
    expires_at: AwareDatetime | None = None
    classification: Classification
    source: Source
    body: Body

    @model_validator(mode="after")
    def _body_matches_type(self) -> NoticeEnvelope:
        expected = BODY_TYPES[self.notice_type]
        if not isinstance(self.body, expected):
            raise ValueError(
                f"notice_type {self.notice_type} needs a {expected.__name__} body, "
                f"got {type(self.body).__name__}"
            )
        return self
