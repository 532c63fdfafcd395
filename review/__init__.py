"""The operator and unit web app: `create_app(App)` returns the FastAPI application."""

from review.web import create_app

__all__ = ["create_app"]
