"""Hand-written canonical notices for tests that need one specific notice."""

from __future__ import annotations

import datetime as dt

from broker import models as m

ISSUED = dt.datetime(2024, 3, 1, 12, 0, tzinfo=dt.UTC)


def sample_notice(
    notice_id: str = "fr-police-2024-0001",
    *,
    version: int = 1,
    msg_type: m.MsgType = m.MsgType.ALERT,
) -> m.NoticeEnvelope:
    """A wanted-person notice with a partial date of birth, lifecycle fields set as given."""
    references = (
        [m.NoticeReference(notice_id=notice_id, version=version - 1)] if version > 1 else []
    )
    return m.NoticeEnvelope(
        notice_id=notice_id,
        version=version,
        msg_type=msg_type,
        references=references,
        notice_type=m.NoticeType.WANTED_PERSON,
        originator=m.Originator(agency_id="fr-police", country="FR"),
        issued_at=ISSUED + dt.timedelta(minutes=version),
        classification=m.Classification(
            level=m.Level.RESTRICTED,
            national_marking="DIFFUSION RESTREINTE",
            tlp=m.Tlp.AMBER,
            releasable_to=["group:EU"],
        ),
        source=m.Source(
            format="canonical",
            original_id=notice_id,
            adapter="direct",
            adapter_version="1",
            received_at=ISSUED,
            sha256="0" * 64,
        ),
        body=m.WantedPersonNotice(
            subject=m.PersonSubject(
                names=[m.Name(full_name="Jean Exemple", given_names="Jean", family_name="Exemple")],
                dates_of_birth=[m.DateSpan(earliest=m.PartialDate(year=1975, month=6))],
                nationalities=["FR"],
            ),
            action_requested=m.RequestedAction.ARREST,
        ),
    )
