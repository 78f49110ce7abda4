"""The web view's static files are served at /ui/ from the package, with nothing fetched from
outside; the in-service verification refuses what it cannot verify (no network here: the
browser test, tests/integration/test_web.py, verifies against real blocks)."""

from __future__ import annotations

import re

from ledger_service.api.ui import STATIC_DIR
from tests.unit.api.conftest import WHY, Api


def test_the_page_and_its_modules_are_served_at_ui(api: Api) -> None:
    moved = api.client.get("/ui", follow_redirects=False)
    assert moved.status_code in (302, 307)
    assert moved.headers["location"] == "/ui/"
    page = api.client.get("/ui/")
    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]
    assert 'lang="zh-CN"' in page.text
    for module in ("app.js", "http.js", "graph.js", "view.js", "i18n.js", "uscc.js"):
        served = api.client.get(f"/ui/{module}")
        assert served.status_code == 200, module
        assert "javascript" in served.headers["content-type"]


def test_no_asset_is_fetched_from_outside() -> None:
    for path in STATIC_DIR.iterdir():
        # the SVG namespace is a name, never fetched
        text = path.read_text().replace("http://www.w3.org/2000/svg", "")
        assert not re.search(r"https?://", text), f"{path.name} names an outside address"
        assert "//cdn" not in text


def test_verifying_an_unknown_or_unanchored_record_is_refused(api: Api, story: list[str]) -> None:
    auditor = api.headers("auditor")
    unknown = api.client.get("/v1/records/nope/verification", params=WHY, headers=auditor)
    assert unknown.status_code == 404
    assert unknown.json()["record_id"] == "nope"
    waiting = api.client.get("/v1/records/score/verification", params=WHY, headers=auditor)
    assert waiting.status_code == 409
    assert "not anchored yet" in waiting.json()["detail"]
    no_purpose = api.client.get("/v1/records/score/verification", headers=auditor)
    assert no_purpose.status_code == 422
