"""What the pages show, read from the database: the review queue and its counts, register
candidates, the dashboard's figures, returns, and who may see which letter.

Lists are ordered and limited in SQL, so a page costs the same with ten or ten thousand letters.
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import String, and_, case, cast, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from pipeline.extract.number import parse_number
from pipeline.models import Flag, LetterNumber
from pipeline.thai import normalize_text
from pipeline.validate import RegisterEntry, subject_similarity
from review.auth import User
from review.render import BANGKOK
from storage.register import SqlRegister
from storage.tables import (
    EventRow,
    InboxItemRow,
    IntakeFileRow,
    LetterRow,
    RegisterEntryRow,
    ReturnRow,
    ReviewItemRow,
    UnitRow,
    utcnow,
)

PER_PAGE = 50
FLAG_CODES = frozenset(f.value for f in Flag)

# ด่วนที่สุด → ด่วนมาก → ด่วน → the rest, in SQL so the database orders and limits.
urgency_rank = case((LetterRow.urgency == "ด่วนที่สุด", 0), (LetterRow.urgency == "ด่วนมาก", 1),
                    (LetterRow.urgency == "ด่วน", 2), else_=3)


@dataclass(frozen=True)
class QueueItem:
    review_id: int
    letter_id: int
    reasons: list[str]
    waiting_since: dt.datetime
    number: str | None
    subject: str | None
    urgency: str | None
    secrecy: str | None
    station: str
    kind: str
    file_name: str


@dataclass
class QueuePage:
    items: list[QueueItem]
    total: int  # all open items
    matching: int  # open items matching the filters
    page: int
    pages: int
    by_reason: Counter[str] = field(default_factory=Counter)
    by_station: Counter[str] = field(default_factory=Counter)
    by_urgency: Counter[str] = field(default_factory=Counter)


def _filters(station: str | None, reason: str | None) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [ReviewItemRow.status == "open"]
    if station:
        conditions.append(LetterRow.station == station)
    if reason in FLAG_CODES:  # a known code only: it goes into a LIKE pattern
        conditions.append(cast(ReviewItemRow.reasons, String).like(f'%"{reason}"%'))
    return conditions


def review_queue(session: Session, *, station: str | None = None, reason: str | None = None,
                 page: int = 1, per_page: int = PER_PAGE) -> QueuePage:
    """Open review items, urgent first (ด่วนที่สุด → ด่วนมาก → ด่วน), then the longest waiting."""
    result = QueuePage([], 0, 0, 1, 1)
    # Counted by the database per distinct (reasons, station, urgency): a few hundred groups at most.
    reasons_text = cast(ReviewItemRow.reasons, String)
    for reasons, station_name, urgency, count in session.execute(
            select(reasons_text, LetterRow.station, LetterRow.urgency, func.count(ReviewItemRow.id))
            .join(LetterRow, LetterRow.id == ReviewItemRow.letter_id).where(ReviewItemRow.status == "open")
            .group_by(reasons_text, LetterRow.station, LetterRow.urgency)):
        result.total += count
        for code in set(json.loads(reasons or "[]")):
            result.by_reason[code] += count
        result.by_station[station_name] += count
        result.by_urgency[urgency or ""] += count
    reason = reason if reason in FLAG_CODES else None
    conditions = _filters(station, reason)
    if station and reason:
        result.matching = session.scalar(select(func.count(ReviewItemRow.id)).join(
            LetterRow, LetterRow.id == ReviewItemRow.letter_id).where(*conditions)) or 0
    else:
        result.matching = (result.by_station[station] if station else
                           result.by_reason[reason] if reason else result.total)
    result.pages = max(1, -(-result.matching // per_page))
    result.page = min(max(page, 1), result.pages)
    rows = session.execute(
        select(ReviewItemRow.id, ReviewItemRow.letter_id, ReviewItemRow.reasons, ReviewItemRow.created_at,
               LetterRow.number, LetterRow.subject, LetterRow.urgency, LetterRow.secrecy, LetterRow.station,
               LetterRow.kind, LetterRow.file_name)
        .join(LetterRow, LetterRow.id == ReviewItemRow.letter_id).where(*conditions)
        .order_by(urgency_rank, ReviewItemRow.created_at, ReviewItemRow.id)
        .offset((result.page - 1) * per_page).limit(per_page))
    result.items = [QueueItem(r[0], r[1], list(r[2] or []), r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10])
                    for r in rows]
    return result


def next_in_queue(session: Session, after_letter_id: int | None, *, station: str | None = None,
                  reason: str | None = None) -> int | None:
    """The letter after `after_letter_id` in queue order (from the top when it was the last)."""
    conditions = _filters(station, reason)
    base = (select(ReviewItemRow.letter_id).join(LetterRow, LetterRow.id == ReviewItemRow.letter_id)
            .order_by(urgency_rank, ReviewItemRow.created_at, ReviewItemRow.id).limit(1))
    if after_letter_id is not None:
        current = session.execute(
            select(urgency_rank, ReviewItemRow.created_at, ReviewItemRow.id)
            .join(LetterRow, LetterRow.id == ReviewItemRow.letter_id)
            .where(ReviewItemRow.letter_id == after_letter_id)
            .order_by(ReviewItemRow.id.desc()).limit(1)).first()
        if current is not None:
            rank, created, item_id = current
            same_rank = urgency_rank == rank
            later = or_(urgency_rank > rank,
                        and_(same_rank, ReviewItemRow.created_at > created),
                        and_(same_rank, ReviewItemRow.created_at == created, ReviewItemRow.id > item_id))
            found = session.scalar(base.where(*conditions, later, ReviewItemRow.letter_id != after_letter_id))
            if found is not None:
                return int(found)
        conditions.append(ReviewItemRow.letter_id != after_letter_id)
    found = session.scalar(base.where(*conditions))
    return int(found) if found is not None else None


def open_reasons(session: Session, letter_id: int) -> list[str]:
    reasons: list[str] = []
    for item_reasons in session.scalars(select(ReviewItemRow.reasons).where(
            ReviewItemRow.letter_id == letter_id, ReviewItemRow.status == "open")):
        reasons += [r for r in item_reasons or [] if r not in reasons]
    return reasons


@dataclass(frozen=True)
class Candidate:
    """A register entry the letter's number may be: shown to the operator to pick from."""

    number: str
    date: dt.date
    subject: str
    sender: str
    similarity: float
    exact: bool  # the number as it stands is in the register
    suggested: bool  # the register rules' suggested correction


def register_candidates(session: Session, letter: LetterRow, limit: int = 6) -> list[Candidate]:
    register = SqlRegister(session)
    year = letter.number_year
    entries = []
    number = parse_number(letter.number) if letter.number else None
    exact = register.find(number, year) if number else None
    if exact is not None:
        entries.append(exact)
    suggested = str((letter.suggestion or {}).get("number") or "")
    parsed = parse_number(suggested) if suggested else None
    if parsed is not None:
        found = register.find(parsed, year) or register.find(parsed, None)
        if found is not None:
            entries.append(found)
    if number is not None and number.complete:
        entries += list(register.same_series(number, year))
    if exact is None and letter.subject:
        # Digits misread twice over are not one confusable step away: the register's entry with
        # the same subject usually is the letter.
        subject = normalize_text(letter.subject)
        same_subject = (select(RegisterEntryRow).where(RegisterEntryRow.subject == subject)
                        .order_by(RegisterEntryRow.date.desc()).limit(limit))
        entries += [RegisterEntry(LetterNumber(r.code, r.agency, r.circular, r.serial), r.date, r.subject,
                                  r.sender) for r in session.scalars(same_subject)]
    seen: set[str] = set()
    out = []
    for entry in entries:
        canonical = entry.number.canonical
        if canonical in seen:
            continue
        seen.add(canonical)
        similarity = subject_similarity(letter.subject or "", entry.subject) if letter.subject else 0.0
        is_exact = exact is not None and canonical == exact.number.canonical
        out.append(Candidate(canonical, entry.date, entry.subject, entry.sender, round(similarity), is_exact,
                             canonical == suggested))
    out.sort(key=lambda c: (not c.suggested, not c.exact, -c.similarity))
    return out[:limit]


def unit_names(session: Session) -> dict[str, str]:
    return {uid: name for uid, name in session.execute(select(UnitRow.id, UnitRow.name))}


def active_units(session: Session) -> list[tuple[str, str]]:
    return [(uid, name) for uid, name in session.execute(
        select(UnitRow.id, UnitRow.name).where(UnitRow.active.is_(True)).order_by(UnitRow.id))]


def letter_events(session: Session, letter_id: int, limit: int = 20) -> list[EventRow]:
    return list(session.scalars(select(EventRow).where(EventRow.letter_id == letter_id)
                                .order_by(EventRow.id.desc()).limit(limit)))


def attachment_keys(session: Session, letter_id: int) -> list[str]:
    """Attachments that came later as separate files (returns overridden)."""
    return [str(e.detail.get("attachment_key")) for e in session.scalars(
        select(EventRow).where(EventRow.letter_id == letter_id, EventRow.action == "return_overridden"))
        if e.detail.get("attachment_key")]


def can_see_letter(session: Session, user: User, letter_id: int) -> bool:
    """Operators and admins see every letter; a clerk only those sent to, or returned to, their unit."""
    if user.is_operator:
        return True
    if user.role != "clerk" or not user.unit_id:
        return False
    in_inbox = session.scalar(select(InboxItemRow.id).where(InboxItemRow.letter_id == letter_id,
                                                            InboxItemRow.unit_id == user.unit_id).limit(1))
    if in_inbox is not None:
        return True
    returned = session.scalar(select(ReturnRow.id).where(ReturnRow.letter_id == letter_id,
                                                         ReturnRow.sender_unit == user.unit_id,
                                                         ReturnRow.status == "confirmed").limit(1))
    return returned is not None


def inbox_counts(session: Session, unit_id: str) -> Counter[str]:
    return Counter({status: count for status, count in session.execute(
        select(InboxItemRow.status, func.count(InboxItemRow.id)).where(InboxItemRow.unit_id == unit_id)
        .group_by(InboxItemRow.status))})


@dataclass(frozen=True)
class InboxLine:
    """One letter in a unit's inbox, as the list shows it."""

    letter_id: int
    number: str | None
    date: dt.date | None
    subject: str | None
    urgency: str | None
    secrecy: str | None
    status: str
    arrived: dt.datetime
    receive_number: int | None
    receive_year: int | None
    return_reason: str | None


def inbox_page(session: Session, unit_id: str, status: str, limit: int = 200) -> list[InboxLine]:
    """The unit's letters with this status: most urgent first, then newest (storage.inbox's order),
    done in SQL with only the columns the list shows."""
    rows = session.execute(
        select(LetterRow.id, LetterRow.number, LetterRow.date, LetterRow.subject, LetterRow.urgency,
               LetterRow.secrecy, InboxItemRow.status, InboxItemRow.created_at, InboxItemRow.receive_number,
               InboxItemRow.receive_year, InboxItemRow.return_reason)
        .join(LetterRow, LetterRow.id == InboxItemRow.letter_id)
        .where(InboxItemRow.unit_id == unit_id, InboxItemRow.status == status)
        .order_by(urgency_rank, InboxItemRow.created_at.desc(), InboxItemRow.id.desc()).limit(limit))
    return [InboxLine(*row) for row in rows]


def returns_queue(session: Session, limit: int = 200) -> list[tuple[ReturnRow, LetterRow]]:
    return [(r, letter) for r, letter in session.execute(
        select(ReturnRow, LetterRow).join(LetterRow, LetterRow.id == ReturnRow.letter_id)
        .where(ReturnRow.status == "pending").order_by(urgency_rank, ReturnRow.created_at)
        .limit(limit))]


def decided_returns(session: Session, *, sender_unit: str | None = None,
                    limit: int = 30) -> list[tuple[ReturnRow, LetterRow]]:
    query = (select(ReturnRow, LetterRow).join(LetterRow, LetterRow.id == ReturnRow.letter_id)
             .where(ReturnRow.status != "pending"))
    if sender_unit is not None:
        query = query.where(ReturnRow.sender_unit == sender_unit, ReturnRow.status == "confirmed")
    return [(r, letter) for r, letter in session.execute(
        query.order_by(ReturnRow.decided_at.desc()).limit(limit))]


# ---------------------------------------------------------------------------------------------
# Dashboard


def today_start(now: dt.datetime | None = None) -> dt.datetime:
    """Midnight in Thai time today, as the naive UTC the database stores."""
    local = (now or dt.datetime.now(dt.UTC)).astimezone(BANGKOK)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight.astimezone(dt.UTC).replace(tzinfo=None)


def dashboard(session: Session, now: dt.datetime | None = None) -> dict[str, Any]:
    start = today_start(now)
    week_start = start - dt.timedelta(days=6)
    intake = Counter({outcome: count for outcome, count in session.execute(
        select(IntakeFileRow.outcome, func.count(IntakeFileRow.id)).where(IntakeFileRow.created_at >= start)
        .group_by(IntakeFileRow.outcome))})
    backlog = session.execute(
        select(func.count(ReviewItemRow.id), func.min(ReviewItemRow.created_at),
               func.sum(case((urgency_rank < 3, 1), else_=0)))
        .join(LetterRow, LetterRow.id == ReviewItemRow.letter_id).where(ReviewItemRow.status == "open")).one()
    returns_pending = session.scalar(select(func.count(ReturnRow.id))
                                     .where(ReturnRow.status == "pending")) or 0
    returns_today = session.scalar(select(func.count(ReturnRow.id)).where(
        ReturnRow.status == "confirmed", ReturnRow.decided_at >= start)) or 0
    failed_total = session.scalar(select(func.count(IntakeFileRow.id))
                                  .where(IntakeFileRow.outcome == "failed")) or 0
    failed = list(session.scalars(select(IntakeFileRow).where(IntakeFileRow.outcome == "failed")
                                  .order_by(IntakeFileRow.created_at.desc()).limit(15)))
    by_hour: Counter[int] = Counter()
    by_day: Counter[dt.date] = Counter()
    week = select(IntakeFileRow.created_at).where(IntakeFileRow.created_at >= week_start)
    for (created,) in session.execute(week):
        local = created.replace(tzinfo=dt.UTC).astimezone(BANGKOK)
        by_day[local.date()] += 1
        if created >= start:
            by_hour[local.hour] += 1
    read_seconds = list(session.scalars(select(LetterRow.read_seconds).where(LetterRow.created_at >= start)))
    now_utc = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(tzinfo=None)
    hours_today = max((now_utc - start).total_seconds() / 3600, 1 / 60)
    days = [(start + dt.timedelta(days=i - 6)).replace(tzinfo=dt.UTC).astimezone(BANGKOK).date()
            for i in range(7)]
    reviewed_today = session.scalar(select(func.count(ReviewItemRow.id)).where(
        ReviewItemRow.status == "closed", ReviewItemRow.closed_at >= start)) or 0
    return {
        "intake": intake, "intake_total": sum(intake.values()),
        "backlog": backlog[0] or 0, "backlog_oldest": backlog[1], "backlog_urgent": backlog[2] or 0,
        "returns_pending": returns_pending, "returns_today": returns_today,
        "failed_total": failed_total, "failed_today": intake.get("failed", 0), "failed": failed,
        "by_hour": [(h, by_hour.get(h, 0)) for h in range(24)],
        "by_hour_max": max(by_hour.values(), default=0),
        "by_day": [(d, by_day.get(d, 0)) for d in days], "by_day_max": max(by_day.values(), default=0),
        "per_hour": round(sum(by_hour.values()) / hours_today, 1),
        "read_median": round(statistics.median(read_seconds), 2) if read_seconds else None,
        "reviewed_today": reviewed_today, "generated_at": utcnow(),
    }
