"""What happens to a letter once it is read, checked and its addressees resolved. Pure.

- routed: into the inboxes of its recipients;
- held: it lists attachments that did not arrive: returns queue, reason prefilled, no inbox;
- needs_review: anything a person must look at first (reasons attached).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from pipeline.confidence import uncertain_fields
from pipeline.models import DocumentKind, Flag, Letter
from pipeline.route import Resolution
from pipeline.validate import Validation


class Status(StrEnum):
    ROUTED = "routed"
    NEEDS_REVIEW = "needs_review"
    HELD = "held"  # in the returns queue
    RETURNED = "returned"
    NOT_LETTER = "not_letter"  # an operator said so: kept, never routed


# Flags that stop a letter from reaching inboxes without a person's decision.
REVIEW_FLAGS = frozenset({
    Flag.NOT_LETTER, Flag.LOW_CONFIDENCE, Flag.NUMBER_NOT_IN_REGISTER, Flag.REGISTER_MISMATCH,
    Flag.NUMBER_INCOMPLETE, Flag.NUMBER_SUGGESTION, Flag.DUPLICATE, Flag.UNRESOLVED_ADDRESSEE, Flag.SECRET,
    Flag.RETURNED_BY_UNIT,
})


@dataclass
class Disposition:
    status: Status
    flags: list[Flag] = field(default_factory=list)
    recipients: list[str] = field(default_factory=list)  # sorted unit ids (proposed when not routed)


def dispose(letter: Letter, validation: Validation, resolution: Resolution | None,
            sender_unit: str | None = None) -> Disposition:
    """`sender_unit`: the directory unit that sent the letter; a circular is not delivered back to it."""
    flags: list[Flag] = []

    def add(flag: Flag) -> None:
        if flag not in flags:
            flags.append(flag)

    uncertain = set(uncertain_fields(letter))
    if resolution is not None and resolution.confirms_addressee:
        uncertain.discard("addressee")
    for flag in letter.review_reasons:
        if flag is not Flag.LOW_CONFIDENCE or uncertain:
            add(flag)
    for flag in validation.flags:
        add(flag)
    recipients = sorted((resolution.units if resolution else set()) - {sender_unit})
    if letter.kind is DocumentKind.NOT_LETTER:
        add(Flag.NOT_LETTER)
    elif resolution is None or not resolution.complete or not letter.distribution_complete or not recipients:
        add(Flag.UNRESOLVED_ADDRESSEE)  # (no recipients left: addressed only to its own sender)
    if letter.secrecy:
        # Secret letters are never fanned out automatically: a person hands them on.
        add(Flag.SECRET)
    if letter.missing_attachments:
        add(Flag.MISSING_ATTACHMENTS)
        # Held for return only when the machine is sure of the letter (whom to return it to); an
        # unsure one is looked at first, the missing attachments among its reasons.
        if not any(flag in REVIEW_FLAGS for flag in flags):
            return Disposition(Status.HELD, flags, recipients)
        return Disposition(Status.NEEDS_REVIEW, flags, recipients)
    if any(flag in REVIEW_FLAGS for flag in flags):
        return Disposition(Status.NEEDS_REVIEW, flags, recipients)
    return Disposition(Status.ROUTED, flags, recipients)
