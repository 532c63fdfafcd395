"""The dashboard: today's intake, the review backlog, returns, failed files, throughput."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from review import queries
from review.deps import OperatorUser, saraban
from review.render import render

router = APIRouter()


@router.get("/dashboard")
def dashboard(request: Request, user: OperatorUser) -> Response:
    with saraban(request).db.session() as session:
        figures = queries.dashboard(session)
    return render(request, "dashboard.html", {"d": figures})
