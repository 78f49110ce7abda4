"""The regulator's web view in headless Debian Chromium (driven by Playwright with the system
browser, /usr/bin/chromium — nothing downloads a browser), against a real uvicorn server on
the real network with the demo's data: sign in, a wrong key refused, a loan's lineage by kind,
decision ↔ now with the diff changing after a correction is written, a node's block and its
in-service verification (and a tampered index row failing), exports that parse and verify,
the access log, the English switch. Screenshots go to the test's tmp dir."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from credit_ledger_verify.records import Record
from credit_ledger_verify.records.payloads import FinancingEventPayload
from playwright.sync_api import Browser, Page, expect, sync_playwright
from prov.model import ProvDocument
from sqlalchemy import select

from ledger_service.api import ApiKeys
from ledger_service.config import ServiceConfig
from ledger_service.context import LedgerContext
from ledger_service.evidence import TrustStore, Verifier
from ledger_service.index import sqlite_url
from ledger_service.index.models import Record as RecordRow
from ledger_service.ops.topology import Topology
from ledger_service.samples.data import SampleWriter, after_the_decision, enterprise_story
from ledger_service.samples.large_lineage import large_lineage, large_loan_id
from ledger_service.samples.ledger import AnchoredLedger
from ledger_service.samples.repair_case import repair_case
from tests.integration.api_process import running_api
from tests.integration.test_api import Server

CHROMIUM = "/usr/bin/chromium"
# headless as root on a closed network: no sandbox, and no background connections to Google
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WHY = {"purpose": "supervision", "purpose_detail": "web test"}


def _anchor(ledger: AnchoredLedger) -> None:
    """Anchor in a thread of its own: Playwright's sync API keeps an event loop running in
    this one, and the worker needs its own (asyncio.run)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(ledger.anchor, batch_size=64).result()


def _is_approval(record: Record) -> bool:
    payload = record.payload
    return isinstance(payload, FinancingEventPayload) and payload.event.value == "approval"


def _loan_id(story: list[Record]) -> str:
    payload = next(r.payload for r in story if isinstance(r.payload, FinancingEventPayload))
    assert isinstance(payload, FinancingEventPayload)
    return payload.loan_id


@pytest.fixture(scope="module")
def web(fabric_network: Topology, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The API (and /ui/) as its own process over a fresh index with two demo enterprises'
    stories written in two requests (up to the approval, then what followed) and anchored."""
    state = tmp_path_factory.mktemp("web")
    config = ServiceConfig(state_dir=Path(fabric_network.state_dir), db_url=sqlite_url(state))
    context = LedgerContext(config, topology=fabric_network)
    writer = SampleWriter(actor=f"web-writer-{os.getpid()}")
    context.intake.register_writer(writer.actor, writer.public_key)
    keys = ApiKeys(context.session_factory)
    tokens = {
        "auditor": keys.create(role="auditor", org="regulator", name="inspector")[1],
        "verifier": keys.create(role="verifier", org="Example Bank", name="risk")[1],
    }
    ledger = AnchoredLedger(context=context, writer=writer, records=[])
    for n in (0, 1):
        story = enterprise_story(writer, n)
        decided = 1 + next(i for i, r in enumerate(story) if _is_approval(r))
        ledger.append(story[:decided])  # application and approval: the decision
        ledger.append(story[decided:])  # disbursement, repair, re-score: after it
    _anchor(ledger)
    env = {**os.environ, "LEDGER_STATE_DIR": str(config.state_dir), "LEDGER_DB_URL": config.db_url}
    with running_api(state / "api.log", env=env) as url:
        yield Server(url, ledger, tokens, writer)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser, web: Server) -> Iterator[Page]:
    context = browser.new_context(accept_downloads=True, base_url=web.url, locale="zh-CN")
    tab = context.new_page()
    yield tab
    context.close()


def _sign_in(page: Page, token: str) -> None:
    page.goto("/ui/")
    page.fill("#api-key", token)
    page.click("#sign-in-form button[type=submit]")


def _search(page: Page, text: str) -> None:
    page.select_option("#purpose", WHY["purpose"])
    page.fill("#purpose-detail", WHY["purpose_detail"])
    page.fill("#query", text)
    page.click("#search-form button[type=submit]")


def _kinds_on_page(page: Page) -> Counter[str]:
    return Counter(page.eval_on_selector_all("#graph .node", "els => els.map(e => e.dataset.kind)"))


def _highlighted(page: Page) -> dict[str, str]:
    pairs = page.eval_on_selector_all(
        "#graph .node.changed", "els => els.map(e => [e.dataset.recordId, e.dataset.changes])"
    )
    return dict(pairs)


def test_a_wrong_key_is_refused_with_a_clear_message(page: Page, web: Server) -> None:
    _sign_in(page, "clk_0000000000000000_" + "A" * 43)
    expect(page.locator("#sign-in-error")).to_contain_text("密钥被拒绝")
    expect(page.locator("#sign-in-error")).to_contain_text("401")
    assert page.locator("#workspace").is_hidden()
    _sign_in(page, web.tokens["verifier"])
    expect(page.locator("#sign-in-error")).to_contain_text("auditor")
    assert page.evaluate("sessionStorage.getItem('credit-ledger-api-key')") is None


def test_purpose_first_and_the_uscc_check_character(page: Page, web: Server) -> None:
    _sign_in(page, web.tokens["auditor"])
    page.fill("#query", "loan-0000000")
    page.click("#search-form button[type=submit]")
    expect(page.locator("#search-error")).to_contain_text("请先选择查询用途")
    assert page.locator("#loan-view").is_hidden()
    _search(page, "91310000MA00000001")  # a code whose check character is wrong
    expect(page.locator("#search-error")).to_contain_text("校验位")
    assert page.locator("#enterprise-view").is_hidden()


def test_lineage_decision_and_now_node_panel_verification_access_log_english(
    page: Page, web: Server, tmp_path: Path
) -> None:
    story = [r for r in web.ledger.records if r.subject == web.ledger.records[0].subject]
    loan = _loan_id(story)
    _sign_in(page, web.tokens["auditor"])
    expect(page.locator("#who")).to_contain_text("regulator/inspector")
    assert page.evaluate("sessionStorage.getItem('credit-ledger-api-key')") == web.tokens["auditor"]
    _search(page, loan)
    expect(page.locator("#loan-view")).to_be_visible()
    expect(page.locator("#graph .node.decision")).to_have_count(1)
    # as of the decision: the application and approval, the score, tax and social insurance
    assert _kinds_on_page(page) == {"financing_event": 2, "score_change": 1, "data_update": 2}
    with web.client("auditor") as api:
        graph = api.get(f"/v1/lineage/{loan}", params={**WHY, "as_of": "decision"}).json()
    assert _kinds_on_page(page) == Counter(n["kind"] for n in graph["nodes"])
    assert _highlighted(page) == {}
    page.screenshot(path=tmp_path / "web-lineage-decision.png", full_page=True)

    # now: what was recorded after the decision is highlighted as added
    page.click("#mode-now")
    expect(page.locator("#graph .node.changed-added").first).to_be_visible()
    before = _highlighted(page)
    assert "disputed" not in " ".join(before.values())
    # a correction and an objection are written after the decision: the diff shows them
    web.ledger.append(after_the_decision(web.writer, 0))
    _anchor(web.ledger)
    page.click("#mode-decision")
    expect(page.locator("#graph .node.changed")).to_have_count(0)
    page.click("#mode-now")
    expect(page.locator("#graph .node.changed-disputed")).to_have_count(1)
    expect(page.locator("#graph .node.changed-superseded")).to_have_count(1)
    after = _highlighted(page)
    assert after != before
    assert set(before) <= set(after)
    expect(page.locator("#change-table tr[data-change=disputed]")).to_have_count(1)
    # anchoring after the decision is one line, not rows of the table
    expect(page.locator("#change-table tr[data-change=anchored]")).to_have_count(0)
    expect(page.locator("#anchored-since")).to_contain_text("条记录在决策后完成上链")
    expect(page.locator("#graph")).to_contain_text("审批通过")  # loan events in Chinese too
    page.screenshot(path=tmp_path / "web-lineage-now.png", full_page=True)

    # the node panel: a score's block, then "verified" by the service's verifier
    score = next(r for r in story if r.kind.value == "score_change")
    page.click(f'#graph .node[data-record-id="{score.record_id}"]')
    panel = page.locator("#node-panel")
    expect(panel.locator("dd[data-field=block]")).to_have_text(_block_of(web, score.record_id))
    expect(panel.locator("dd[data-field=commitment]")).to_have_text(_commitment_of(web, score))
    panel.locator("#verify-node").click()
    expect(page.locator("#verification-status")).to_contain_text("已验证")
    assert page.locator("#verification-status").get_attribute("data-ok") == "true"
    expect(page.locator("#verification li.step-failed")).to_have_count(0)
    assert page.locator("#verification li.step-passed").count() >= 6
    page.screenshot(path=tmp_path / "web-node-verified.png", full_page=True)

    # the enterprise's access log shows this page's lineage query with its purpose
    panel.locator("#open-enterprise").click()
    expect(page.locator("#enterprise-view")).to_be_visible()
    reads = page.locator("#access-log tr[data-query=lineage]")
    expect(reads.first).to_contain_text("supervision: web test")
    expect(reads.first).to_contain_text("regulator/inspector")
    assert page.locator("#timeline tr").count() == 1 + len(story) + 2

    # the English switch changes the labels; times keep their UTC instant on hover
    page.click("#lang")
    expect(page.locator("h1")).to_have_text("Credit ledger — regulator's view")
    expect(page.locator("#mode-now")).to_have_text("Now")
    expect(page.locator("#enterprise-view h3").first).to_have_text("Timeline")
    assert (
        page.locator("#timeline time").first.get_attribute("title", timeout=1000).startswith("UTC ")
    )


def _block_of(web: Server, record_id: str) -> str:
    stored = web.ledger.context.records.get_records([record_id])[record_id]
    assert stored.anchor is not None
    return str(stored.anchor.block_number)


def _commitment_of(web: Server, record: Record) -> str:
    return web.ledger.context.records.get_records([record.record_id])[
        record.record_id
    ].commitment.hex()


def test_exports_download_and_parse_and_the_bundle_verifies(
    page: Page, web: Server, tmp_path: Path
) -> None:
    loan = _loan_id([r for r in web.ledger.records if r.subject == web.ledger.records[0].subject])
    _sign_in(page, web.tokens["auditor"])
    _search(page, loan)
    expect(page.locator("#loan-view")).to_be_visible()
    files = {}
    for button in ("export-prov", "export-svg", "export-png", "export-bundle"):
        with page.expect_download() as download:
            page.click(f"#{button}")
        files[button] = tmp_path / download.value.suggested_filename
        download.value.save_as(files[button])
    prov = ProvDocument.deserialize(content=files["export-prov"].read_text(), format="json")
    assert len(prov.get_records()) > 5
    svg = ET.parse(files["export-svg"]).getroot()
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"
    assert files["export-png"].read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    bundle = json.loads(files["export-bundle"].read_bytes())
    assert bundle["format"] == "credit-ledger-lineage/1"
    result = Verifier(TrustStore.from_topology(web.ledger.topology)).verify(bundle)
    assert result.ok, result.messages


def test_a_tampered_index_row_fails_verification_on_the_page(page: Page, web: Server) -> None:
    # enterprise 1's tax record: its content is changed in the index behind the service
    story = [r for r in web.ledger.records if r.subject != web.ledger.records[0].subject]
    tax = story[0]
    with web.ledger.session_factory.begin() as session:
        row = session.scalars(select(RecordRow).where(RecordRow.record_id == tax.record_id)).one()
        assert row.content is not None
        row.content = row.content.replace(b'"tax_credit_grade":"', b'"tax_credit_grade":"X')
    _sign_in(page, web.tokens["auditor"])
    _search(page, _loan_id(story))
    page.click(f'#graph .node[data-record-id="{tax.record_id}"]')
    page.locator("#verify-node").click()
    status = page.locator("#verification-status")
    expect(status).to_contain_text("验证失败")
    expect(status).to_contain_text("step 1 (content)")
    assert status.get_attribute("data-ok") == "false"
    expect(page.locator("#verification li.step-failed").first).to_contain_text("content")


# -- a 1,000-node lineage: collapse by kind / source, the critical path ------------------------
# Served from a SQLite index only (no Fabric network: the lineage JSON comes from the index).


@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, list[Record]]]:
    """(the API's URL, an auditor's token, the records) for one loan of ~1,000 nodes."""
    state = tmp_path_factory.mktemp("web-large")
    context = LedgerContext(ServiceConfig(state_dir=state, db_url=sqlite_url(state)))
    writer = SampleWriter(actor=f"web-large-{os.getpid()}")
    context.intake.register_writer(writer.actor, writer.public_key)
    before, after = large_lineage(writer)
    context.intake.append(before)
    context.intake.append(after)
    token = ApiKeys(context.session_factory).create(role="auditor", org="regulator", name="big")[1]
    context.close()
    with running_api(
        state / "api.log", args=("--state-dir", str(state), "--db", sqlite_url(state))
    ) as url:
        yield url, token, before


@pytest.fixture
def large_page(browser: Browser, large: tuple[str, str, list[Record]]) -> Iterator[Page]:
    context = browser.new_context(base_url=large[0], locale="zh-CN")
    tab = context.new_page()
    _sign_in(tab, large[1])
    _search(tab, large_loan_id())
    expect(tab.locator("#loan-view")).to_be_visible()
    yield tab
    context.close()


def _groups(page: Page) -> dict[str, int]:
    pairs = page.eval_on_selector_all(
        "#graph .node.group", "els => els.map(e => [e.dataset.group, Number(e.dataset.count)])"
    )
    return dict(pairs)


def test_a_large_lineage_opens_collapsed_by_kind_and_expands_on_click(
    large_page: Page, large: tuple[str, str, list[Record]], tmp_path: Path
) -> None:
    page = large_page
    url, token, before = large
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as api:
        graph = api.get(f"/v1/lineage/{large_loan_id()}", params={**WHY, "as_of": "decision"})
    nodes = graph.json()["nodes"]
    assert len(nodes) == len(before) > 1000 - 10
    # over 150 nodes: collapsed by kind, one box per kind and depth, counts adding up
    expect(page.locator("#collapse")).to_have_value("kind")
    decision = graph.json()["loan"]["decision"]
    by_kind = Counter(
        f"group:{n['depth']}:kind:{n['kind']}" for n in nodes if n["record_id"] != decision
    )
    assert _groups(page) == {k: n for k, n in by_kind.items() if n >= 2}
    assert page.locator("#graph .node[data-record-id]").count() == 1 + sum(
        n for n in by_kind.values() if n < 2
    )
    boxes = page.locator("#graph .node.group")
    expect(boxes.first).to_contain_text("×")
    expect(page.locator('#graph .node.group[data-kind="data_update"]').first).to_contain_text(
        "数据更新"
    )
    # edges between boxes are summed: their counts add up to the lineage's edges between them
    counts = page.eval_on_selector_all(
        "#graph .edge", "els => els.map(e => Number(e.dataset.count))"
    )
    assert max(counts) > 100
    page.screenshot(path=tmp_path / "web-large-collapsed.png", full_page=True)

    # a click on the box of depth-1 score changes opens it: its nodes, no box for it any more
    scores = "group:1:kind:score_change"
    page.click(f'#graph .node.group[data-group="{scores}"]')
    expect(page.locator(f'#graph .node.group[data-group="{scores}"]')).to_have_count(0)
    expect(page.locator('#graph .node[data-record-id][data-kind="score_change"]')).to_have_count(
        by_kind[scores]
    )

    # by source: one box per source and depth; none: every node
    page.select_option("#collapse", "source")
    by_source = Counter(
        f"group:{n['depth']}:source:{n['source']}" for n in nodes if n["record_id"] != decision
    )
    assert _groups(page) == {k: n for k, n in by_source.items() if n >= 2}
    expect(page.locator('#graph .node.group[data-source="court"]').first).to_contain_text("court")
    page.select_option("#collapse", "none")
    expect(page.locator("#graph .node[data-record-id]")).to_have_count(len(nodes))

    # English labels
    page.click("#lang")
    expect(page.locator("label[for=collapse]")).to_have_text("Collapse")
    page.select_option("#collapse", "kind")
    expect(page.locator('#graph .node.group[data-kind="data_update"]').first).to_contain_text(
        "Data update ×"
    )
    expect(page.locator("#graph .node.group").first).to_contain_text("click to expand")


def test_the_critical_path_highlights_what_the_decision_relied_on(
    large_page: Page, large: tuple[str, str, list[Record]], tmp_path: Path
) -> None:
    page = large_page
    before = {r.record_id for r in large[2]}
    page.select_option("#collapse", "none")
    page.click("#critical-path")
    expect(page.locator("#critical-path")).to_have_attribute("aria-pressed", "true")
    # as of the decision everything shown was relied on by it
    expect(page.locator("#graph .node.dim")).to_have_count(0)
    expect(page.locator("#graph .node.critical")).to_have_count(len(before))
    # now: what came after the decision (disbursement, repayment, its re-score and new data)
    # is dimmed; the chains from the decision back to raw data stay highlighted
    page.click("#mode-now")
    expect(page.locator("#graph .node.changed-added").first).to_be_visible()
    critical = set(
        page.eval_on_selector_all(
            "#graph .node.critical", "els => els.map(e => e.dataset.recordId)"
        )
    )
    dimmed = set(
        page.eval_on_selector_all("#graph .node.dim", "els => els.map(e => e.dataset.recordId)")
    )
    assert critical == before
    assert len(dimmed) == 8
    assert not dimmed & before
    approval = page.locator("#graph .node.decision").get_attribute("data-record-id")
    # the approval relied on the application and 20 scores: 21 highlighted edges from it
    expect(page.locator(f'#graph .edge.critical[data-from="{approval}"]')).to_have_count(21)
    assert page.locator("#graph .edge.dim").count() >= 8
    page.screenshot(path=tmp_path / "web-large-critical-path.png", full_page=True)
    # collapsed by kind: a box says how many of its nodes are on the path
    page.select_option("#collapse", "kind")
    mixed = page.locator('#graph .node.group[data-group="group:2:kind:data_update"]')
    expect(mixed).to_have_attribute(
        "data-critical", str(int(mixed.get_attribute("data-count") or 0) - 5)
    )
    expect(mixed).to_contain_text("关键路径上")
    # toggled off: nothing dimmed
    page.click("#critical-path")
    expect(page.locator("#graph .dim")).to_have_count(0)
    assert "critical-view" not in (page.locator("#graph").get_attribute("class") or "")


def test_a_repaired_record_shows_its_repair_to_the_regulator_and_is_gone_for_the_bank(
    page: Page, web: Server, tmp_path: Path
) -> None:
    # enterprise 1's court record repaired: submitted, verified + re-scored, approved
    case = repair_case(web.writer, 1)
    for request in case:
        web.ledger.append(request)
    _anchor(web.ledger)
    court, submitted = case[0]
    with web.client("verifier") as bank:
        gone = bank.get(f"/v1/records/{court.record_id}", params={"purpose": "loan_review"})
        assert gone.status_code == 404
        assert gone.json()["code"] == "unknown_record"
    _sign_in(page, web.tokens["auditor"])
    _search(page, court.subject)
    expect(page.locator("#enterprise-view")).to_be_visible()
    repaired = page.locator(f'#timeline tr[data-record-id="{court.record_id}"]')
    expect(repaired).to_have_attribute("data-repair", "approved")
    expect(repaired).to_contain_text(f"信用修复案件 {submitted.record_id}: 已批准（已修复）")
    page.screenshot(path=tmp_path / "web-repaired-record.png", full_page=True)
