"""The regulator's page shows erased and expired nodes (headless Debian Chromium driven by
Playwright with the system browser, like tests/integration/test_web.py): a long-settled loan
whose overdue was erased by a retention run (已过期 / expired, its rule and date) and whose
tax data was erased on request (内容已删除 / erased); the node panel's verification says
"lawfully erased", not verified content and not a failure."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from ledger_service.api import ApiKeys
from ledger_service.config import ServiceConfig
from ledger_service.context import LedgerContext
from ledger_service.index import sqlite_url
from ledger_service.ops.topology import Topology
from ledger_service.retention.run import run_retention
from ledger_service.samples.data import SampleWriter, expired_overdue
from ledger_service.samples.ledger import AnchoredLedger
from tests.integration.api_process import running_api
from tests.integration.test_api import Server
from tests.integration.test_web import _search, _sign_in, browser  # noqa: F401  (fixture)

pytestmark = pytest.mark.fabric


@pytest.fixture(scope="module")
def erased_web(
    fabric_network: Topology, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    state = tmp_path_factory.mktemp("web-erasure")
    config = ServiceConfig(state_dir=Path(fabric_network.state_dir), db_url=sqlite_url(state))
    context = LedgerContext(config, topology=fabric_network)
    writer = SampleWriter(actor=f"web-erasure-writer-{os.getpid()}")
    context.intake.register_writer(writer.actor, writer.public_key)
    token = ApiKeys(context.session_factory).create(role="auditor", org="regulator", name="i")[1]
    ledger = AnchoredLedger(context=context, writer=writer, records=[])
    ledger.append(expired_overdue(writer, 0))
    erasures = context.erasures
    run = run_retention(context.session_factory, erasures, erasures.today(), started_by="test")
    assert len(run.erased) == 1
    erasures.erase_on_request(ledger.records[0].record_id, "the enterprise asked")
    with ThreadPoolExecutor(max_workers=1) as pool:  # Playwright's loop is not the worker's
        pool.submit(ledger.anchor, batch_size=64).result()
    env = {**os.environ, "LEDGER_STATE_DIR": str(config.state_dir), "LEDGER_DB_URL": config.db_url}
    with running_api(state / "api.log", env=env) as url:
        yield Server(url, ledger, {"auditor": token}, writer)


@pytest.fixture
def page(browser: Browser, erased_web: Server) -> Iterator[Page]:  # noqa: F811
    context = browser.new_context(base_url=erased_web.url, locale="zh-CN")
    tab = context.new_page()
    yield tab
    context.close()


def test_expired_and_erased_nodes_are_marked(
    page: Page, erased_web: Server, tmp_path: Path
) -> None:
    tax, _approval, overdue, *_ = erased_web.ledger.records
    loan = overdue.payload.model_dump()["loan_id"]
    _sign_in(page, erased_web.tokens["auditor"])
    _search(page, loan)
    expect(page.locator("#loan-view")).to_be_visible()
    page.click("#mode-now")
    expired = page.locator(f'#graph .node[data-record-id="{overdue.record_id}"]')
    erased = page.locator(f'#graph .node[data-record-id="{tax.record_id}"]')
    expect(expired).to_have_class(has_class("expired"))
    expect(erased).to_have_class(has_class("erased"))
    expect(expired).to_contain_text("⊘")
    expect(erased).to_contain_text("✕")
    expect(page.locator("#legend")).to_contain_text("已过期")
    page.screenshot(path=tmp_path / "web-erasure-markers.png", full_page=True)

    expired.click()
    panel = page.locator("#node-panel")
    expect(panel.locator("p.marks")).to_contain_text("已过期 (loan_overdue, ")
    panel.locator("#verify-node").click()
    status = page.locator("#verification-status")
    expect(status).to_contain_text("已依法删除")
    expect(status).to_contain_text("loan_overdue")
    assert status.get_attribute("data-status") == "erased"
    assert status.get_attribute("data-ok") == "true"

    erased.click()
    expect(panel.locator("p.marks")).to_contain_text("内容已删除 (pipl_art47, ")
    page.click("#lang")
    expect(panel.locator("p.marks")).to_contain_text("erased (pipl_art47, ")
    expired.click()
    expect(panel.locator("p.marks")).to_contain_text("expired (loan_overdue, ")
    page.screenshot(path=tmp_path / "web-erasure-english.png", full_page=True)


def has_class(name: str) -> re.Pattern[str]:
    """A class-list pattern that matches when ``name`` is one of the classes."""
    return re.compile(rf"(^|\s){name}(\s|$)")
