"""Administration: users, the outgoing register, the directory of units and groups."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, or_, select

from pipeline.thai import normalize_text, to_arabic_digits
from review.auth import ROLE_NAMES, ROLES, UserError, add_user, flash
from review.deps import AdminUser, saraban
from review.render import render
from storage import events
from storage.directory import DirectoryImportError, import_directory
from storage.register import RegisterImportError, add_entry, import_register
from storage.tables import GroupRow, RegisterEntryRow, UnitRow, UserRow

router = APIRouter(prefix="/admin")
UPLOAD_LIMIT = 20 * 1024 * 1024  # a register or a directory is a few MB at most


@router.get("/users")
def users_page(request: Request, user: AdminUser) -> Response:
    with saraban(request).db.session() as session:
        return render(request, "admin_users.html", {
            "users": list(session.scalars(select(UserRow).order_by(UserRow.role, UserRow.username))),
            "roles": ROLES, "role_names": ROLE_NAMES,
            "units": [(u.id, u.name) for u in session.scalars(select(UnitRow).where(UnitRow.active.is_(True))
                                                               .order_by(UnitRow.id))]})


@router.post("/users")
def users_add(request: Request, user: AdminUser, username: Annotated[str, Form()] = "",
              password: Annotated[str, Form()] = "", role: Annotated[str, Form()] = "",
              unit_id: Annotated[str, Form()] = "", display_name: Annotated[str, Form()] = "") -> Response:
    try:
        with saraban(request).db.session() as session:
            add_user(session, username, password, role, unit_id=unit_id.strip() or None,
                     display_name=display_name, actor=user.username)
        flash(request, f"เพิ่มผู้ใช้ {username} แล้ว")
    except UserError as exc:
        flash(request, str(exc), "error")
    return RedirectResponse("/admin/users", status_code=303)


@router.get("/register")
def register_page(request: Request, user: AdminUser, q: str = "") -> Response:
    text = to_arabic_digits(normalize_text(q))
    with saraban(request).db.session() as session:
        query = select(RegisterEntryRow)
        if text:
            query = query.where(or_(RegisterEntryRow.number.contains(text),
                                    RegisterEntryRow.subject.contains(text)))
        query = query.order_by(RegisterEntryRow.date.desc(), RegisterEntryRow.id.desc()).limit(100)
        entries = list(session.scalars(query))
        total = session.scalar(select(func.count(RegisterEntryRow.id))) or 0
    return render(request, "admin_register.html", {"entries": entries, "total": total, "q": q})


@router.post("/register")
def register_add(request: Request, user: AdminUser, number: Annotated[str, Form()] = "",
                 date: Annotated[str, Form()] = "", subject: Annotated[str, Form()] = "",
                 sender: Annotated[str, Form()] = "") -> Response:
    try:
        with saraban(request).db.session() as session:
            record = add_entry(session, number, date, subject, sender)
            events.record(session, "register_entry_added", actor=user.username,
                          number=record.number.canonical, date=record.date.isoformat())
        flash(request, f"เพิ่มเลขที่ {record.number.canonical} ในทะเบียนแล้ว")
    except RegisterImportError as exc:
        flash(request, "; ".join(exc.errors), "error")
    return RedirectResponse("/admin/register", status_code=303)


def _saved(upload: UploadFile, folder: str) -> Path | None:
    """The upload in a temp folder, keeping its suffix (the importers go by it); None if too big."""
    path = Path(folder) / f"upload{Path(upload.filename or '').suffix.lower()}"
    data = upload.file.read(UPLOAD_LIMIT + 1)
    if len(data) > UPLOAD_LIMIT:
        return None
    path.write_bytes(data)
    return path


@router.post("/register/import")
def register_import(request: Request, file: Annotated[UploadFile, File()], user: AdminUser) -> Response:
    with tempfile.TemporaryDirectory(prefix="saraban-upload-") as tmp:
        path = _saved(file, tmp)
        if path is None:
            flash(request, "แฟ้มใหญ่เกินไป", "error")
            return RedirectResponse("/admin/register", status_code=303)
        try:
            with saraban(request).db.session() as session:
                added, updated = import_register(session, path)
                events.record(session, "register_imported", actor=user.username, file=file.filename,
                              added=added, updated=updated)
            flash(request, f"นำเข้าทะเบียนแล้ว: เพิ่ม {added} รายการ ปรับปรุง {updated} รายการ")
        except RegisterImportError as exc:
            flash(request, str(exc), "error")
    return RedirectResponse("/admin/register", status_code=303)


@router.get("/directory")
def directory_page(request: Request, user: AdminUser) -> Response:
    with saraban(request).db.session() as session:
        return render(request, "admin_directory.html", {
            "units": list(session.scalars(select(UnitRow).order_by(UnitRow.active.desc(), UnitRow.id))),
            "groups": list(session.scalars(select(GroupRow).order_by(GroupRow.id)))})


@router.post("/directory/import")
def directory_import(request: Request, file: Annotated[UploadFile, File()], user: AdminUser) -> Response:
    with tempfile.TemporaryDirectory(prefix="saraban-upload-") as tmp:
        path = _saved(file, tmp)
        if path is None:
            flash(request, "แฟ้มใหญ่เกินไป", "error")
            return RedirectResponse("/admin/directory", status_code=303)
        try:
            with saraban(request).db.session() as session:
                directory = import_directory(session, path)
                events.record(session, "directory_imported", actor=user.username, file=file.filename,
                              units=len(directory.units), groups=len(directory.groups))
            flash(request, f"นำเข้าทำเนียบแล้ว: {len(directory.units)} หน่วยงาน {len(directory.groups)} กลุ่ม")
        except DirectoryImportError as exc:
            flash(request, str(exc), "error")
    return RedirectResponse("/admin/directory", status_code=303)
