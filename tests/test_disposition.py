"""What happens to a letter: routed, held for return, or reviewed — and why."""

import datetime as dt

from pipeline.disposition import Status, dispose
from pipeline.models import DocumentKind, Field, Flag, Letter, LetterNumber
from pipeline.route import Resolution
from pipeline.validate import Validation


def _letter(**changes) -> Letter:  # type: ignore[no-untyped-def]
    letter = Letter(file="x.pdf", kind=DocumentKind.LETTER, pages=1,
                    number=Field(LetterNumber("ลป", "0017.1", True, 12), 0.99),
                    date=Field(dt.date(2024, 3, 1), 0.99), subject=Field("ขอเชิญประชุม", 0.95),
                    addressee=Field("นายอำเภอทุกอำเภอ", 0.95))
    for key, value in changes.items():
        setattr(letter, key, value)
    return letter


def _resolved(*units: str, weakest: float = 100.0) -> Resolution:
    return Resolution(units=set(units), matched=[("x", "unit", u) for u in units], weakest=weakest)


def test_a_clean_letter_is_routed_without_its_sender() -> None:
    result = dispose(_letter(), Validation(), _resolved("amphoe-01", "amphoe-02", "r-28"), sender_unit="r-28")
    assert result.status is Status.ROUTED and result.recipients == ["amphoe-01", "amphoe-02"] and not result.flags


def test_missing_attachments_are_held_not_routed() -> None:
    result = dispose(_letter(missing_attachments=True, attachments=["แบบสำรวจ จำนวน ๑ ชุด"]), Validation(),
                     _resolved("amphoe-01"))
    assert result.status is Status.HELD and Flag.MISSING_ATTACHMENTS in result.flags


def test_reasons_for_review() -> None:
    assert dispose(_letter(secrecy="ลับ"), Validation(), _resolved("amphoe-01")).status is Status.NEEDS_REVIEW
    not_in_register = Validation(flags=[Flag.NUMBER_NOT_IN_REGISTER])
    assert Flag.NUMBER_NOT_IN_REGISTER in dispose(_letter(), not_in_register, _resolved("amphoe-01")).flags
    unresolved = Resolution(units={"amphoe-01"}, unresolved=["อธิการบดี"])
    result = dispose(_letter(), Validation(), unresolved)
    assert result.status is Status.NEEDS_REVIEW and Flag.UNRESOLVED_ADDRESSEE in result.flags
    not_letter = _letter(kind=DocumentKind.NOT_LETTER)
    assert Flag.NOT_LETTER in dispose(not_letter, Validation(), None).flags


def test_an_addressee_the_directory_confirms_needs_no_review_for_its_ocr_confidence() -> None:
    unsure = _letter(addressee=Field("นายอำเภอทุกอำเภอ", 0.4), review_reasons=[Flag.LOW_CONFIDENCE])
    assert dispose(unsure, Validation(), _resolved("amphoe-01", weakest=97)).status is Status.ROUTED
    assert dispose(unsure, Validation(), _resolved("amphoe-01", weakest=88)).status is Status.NEEDS_REVIEW
    unsure_number = _letter(number=Field(LetterNumber("ลป", "0017.1", True, 12), 0.5),
                            review_reasons=[Flag.LOW_CONFIDENCE])
    assert dispose(unsure_number, Validation(), _resolved("amphoe-01")).status is Status.NEEDS_REVIEW
