"""Letter, memo, or something else (domain.md §1)."""

from __future__ import annotations

from pipeline.extract.header import HeaderFields
from pipeline.models import DocumentKind


def document_kind(fields: HeaderFields) -> DocumentKind:
    """A memo shows its title; a letter its number line and `เรื่อง`/`เรียน`; orders, announcements,
    summaries and reports have a title of their own and no `เรียน`: never auto-routed.
    """
    labelled = sum(x is not None for x in (fields.number_text, fields.subject, fields.addressee))
    if fields.title and fields.addressee is None:
        return DocumentKind.NOT_LETTER
    if fields.memo_title and labelled >= 2:
        return DocumentKind.MEMO
    if fields.number_text is not None and labelled >= 2:
        return DocumentKind.LETTER
    if fields.subject is not None and fields.addressee is not None:
        return DocumentKind.MEMO if fields.memo_title else DocumentKind.LETTER
    return DocumentKind.NOT_LETTER
