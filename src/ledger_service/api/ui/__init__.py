"""The regulator's web view (docs/web.md): static files shipped in the package, served at
``/ui/`` by the API's app. Plain ES modules, no build step and nothing fetched from outside:
the page talks only to this service's ``/v1`` API with the auditor key the user types in."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

__all__ = ["STATIC_DIR", "mount_web"]

STATIC_DIR = Path(__file__).parent / "static"


def mount_web(app: FastAPI) -> None:
    """Serve the page at ``/ui/`` (``/ui`` redirects there); not part of the OpenAPI
    document, and not a ``/v1`` operation: the page holds no data until the API answers."""

    @app.get("/ui", include_in_schema=False)
    def _ui() -> RedirectResponse:
        return RedirectResponse("/ui/")

    app.mount("/ui", StaticFiles(directory=STATIC_DIR, html=True), name="web")
