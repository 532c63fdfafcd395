"""The database schema (SQLAlchemy 2). Alembic migrations in storage/migrations create it.

SQLite by default, PostgreSQL where configured: only portable types are used (JSON, not JSONB).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


class LetterRow(Base):
    """One scanned document, stored once per content (sha256)."""

    __tablename__ = "letters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    file_name: Mapped[str] = mapped_column(String(500))
    station: Mapped[str] = mapped_column(String(100), default="default", index=True)
    size_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    kind: Mapped[str] = mapped_column(String(20))
    pages: Mapped[int] = mapped_column(Integer, default=1)
    number: Mapped[str | None] = mapped_column(String(80), index=True)  # canonical
    number_year: Mapped[int | None] = mapped_column(Integer)
    sender_code: Mapped[str | None] = mapped_column(String(40), index=True)
    date: Mapped[dt.date | None] = mapped_column(Date)
    subject: Mapped[str | None] = mapped_column(Text)
    addressee: Mapped[str | None] = mapped_column(Text)
    references: Mapped[list[Any]] = mapped_column(JSON, default=list)
    attachments: Mapped[list[Any]] = mapped_column(JSON, default=list)
    distribution: Mapped[list[Any]] = mapped_column(JSON, default=list)
    urgency: Mapped[str | None] = mapped_column(String(20))
    secrecy: Mapped[str | None] = mapped_column(String(20))
    attachment_pages: Mapped[int] = mapped_column(Integer, default=0)
    missing_attachments: Mapped[bool] = mapped_column(Boolean, default=False)
    confidences: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # field → 0..1
    sources: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # field → OCR text it came from
    status: Mapped[str] = mapped_column(String(20), index=True)  # routed | needs_review | held | returned
    flags: Mapped[list[Any]] = mapped_column(JSON, default=list)
    recipients: Mapped[list[Any]] = mapped_column(JSON, default=list)  # resolved unit ids
    routing: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # unresolved/ambiguous parts
    suggestion: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # register correction with evidence
    duplicate_of: Mapped[int | None] = mapped_column(ForeignKey("letters.id"))
    object_key: Mapped[str | None] = mapped_column(String(500))
    original_key: Mapped[str | None] = mapped_column(String(500))
    header_key: Mapped[str | None] = mapped_column(String(500))
    ocr_key: Mapped[str | None] = mapped_column(String(500))
    read_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    inbox: Mapped[list[InboxItemRow]] = relationship(back_populates="letter")

    __table_args__ = (Index("ix_letters_number_year", "number", "number_year"),)


class IntakeFileRow(Base):
    """Every file taken in, whatever became of it: the record stations and backfills report from."""

    __tablename__ = "intake_files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    path: Mapped[str] = mapped_column(Text)
    station: Mapped[str] = mapped_column(String(100), default="default", index=True)
    sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    size_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    outcome: Mapped[str] = mapped_column(String(20), index=True)  # routed | needs_review | duplicate | failed
    letter_id: Mapped[int | None] = mapped_column(ForeignKey("letters.id"))
    reason_code: Mapped[str | None] = mapped_column(String(40))
    reason: Mapped[str | None] = mapped_column(Text)  # Thai, for the clerk
    detail: Mapped[str | None] = mapped_column(Text)  # technical
    batch: Mapped[str | None] = mapped_column(String(100), index=True)  # backfill run id
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)


class RegisterEntryRow(Base):
    """A row of the outgoing register (ทะเบียนหนังสือส่ง)."""

    __tablename__ = "register_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(80))  # canonical
    year: Mapped[int] = mapped_column(Integer)  # Gregorian year of `date`: serials restart yearly
    code: Mapped[str] = mapped_column(String(10))
    agency: Mapped[str] = mapped_column(String(40))
    circular: Mapped[bool] = mapped_column(Boolean, default=False)
    serial: Mapped[int | None] = mapped_column(Integer)
    date: Mapped[dt.date] = mapped_column(Date)
    subject: Mapped[str] = mapped_column(Text)
    sender: Mapped[str] = mapped_column(String(300), default="")
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("number", "year", name="uq_register_number_year"),
        Index("ix_register_series", "code", "agency", "circular", "year"),
        Index("ix_register_date", "date"),
    )


class UnitRow(Base):
    __tablename__ = "units"

    id: Mapped[str] = mapped_column(String(60), primary_key=True)
    name: Mapped[str] = mapped_column(String(400))
    head: Mapped[str] = mapped_column(String(400), default="")
    aliases: Mapped[list[Any]] = mapped_column(JSON, default=list)
    groups: Mapped[list[Any]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)  # False: gone from the directory, kept for history


class GroupRow(Base):
    __tablename__ = "groups"

    id: Mapped[str] = mapped_column(String(60), primary_key=True)
    name: Mapped[str] = mapped_column(String(400))
    aliases: Mapped[list[Any]] = mapped_column(JSON, default=list)


class InboxItemRow(Base):
    """A letter in a unit's inbox."""

    __tablename__ = "inbox_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    letter_id: Mapped[int] = mapped_column(ForeignKey("letters.id"), index=True)
    unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="new")  # new | received | returned
    receive_number: Mapped[int | None] = mapped_column(Integer)  # เลขรับ
    receive_year: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    received_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    received_by: Mapped[str | None] = mapped_column(String(100))
    returned_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    return_reason: Mapped[str | None] = mapped_column(Text)

    letter: Mapped[LetterRow] = relationship(back_populates="inbox")

    __table_args__ = (
        UniqueConstraint("letter_id", "unit_id", name="uq_inbox_letter_unit"),
        UniqueConstraint("unit_id", "receive_year", "receive_number", name="uq_inbox_receive_number"),
    )


class ReceiveCounterRow(Base):
    """The last receive number given by a unit in a year; incremented atomically."""

    __tablename__ = "receive_counters"

    unit_id: Mapped[str] = mapped_column(String(60), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


class ReviewItemRow(Base):
    """A letter waiting for an operator, with the reasons."""

    __tablename__ = "review_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    letter_id: Mapped[int] = mapped_column(ForeignKey("letters.id"), index=True)
    reasons: Mapped[list[Any]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)  # open | closed
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    closed_by: Mapped[str | None] = mapped_column(String(100))
    resolution: Mapped[str | None] = mapped_column(String(40))  # approved | returned | not_letter


class ReturnRow(Base):
    """A letter to go back to its sender (returns queue), and what the operator decided."""

    __tablename__ = "returns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    letter_id: Mapped[int] = mapped_column(ForeignKey("letters.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    sender_code: Mapped[str | None] = mapped_column(String(40), index=True)
    sender_unit: Mapped[str | None] = mapped_column(String(60), index=True)
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)  # pending | confirmed | overridden
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    decided_by: Mapped[str | None] = mapped_column(String(100))


class EventRow(Base):
    """The append-only event log: who did what, when, and why."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, server_default=func.current_timestamp(),
                                            index=True)
    actor: Mapped[str] = mapped_column(String(100), default="system")
    action: Mapped[str] = mapped_column(String(60), index=True)
    letter_id: Mapped[int | None] = mapped_column(Integer, index=True)
    unit_id: Mapped[str | None] = mapped_column(String(60))
    reason: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class UserRow(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(20))  # operator | clerk | admin
    unit_id: Mapped[str | None] = mapped_column(String(60))
    display_name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class TrainingExampleRow(Base):
    """An operator's correction, kept to retrain the OCR models."""

    __tablename__ = "training_examples"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    letter_id: Mapped[int] = mapped_column(ForeignKey("letters.id"), index=True)
    field: Mapped[str] = mapped_column(String(40))
    ocr_value: Mapped[str | None] = mapped_column(Text)
    corrected_value: Mapped[str | None] = mapped_column(Text)
    crop_key: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(100))
