// Labels: Simplified Chinese by default (the users are Chinese regulators), English on switch.
const LABELS = {
  zh: {
    title: "信贷存证监管视图", switch_language: "English", sign_out: "退出",
    api_key: "监管 API 密钥", sign_in: "登录",
    key_hint: "密钥只保存在本标签页的 sessionStorage 中。",
    key_refused: "密钥被拒绝", not_auditor: "此页面需要监管（auditor）密钥，当前密钥角色为",
    purpose: "查询用途", choose_purpose: "— 请选择用途 —",
    purpose_loan_review: "贷前审查", purpose_post_loan_monitoring: "贷后管理",
    purpose_objection_handling: "异议处理", purpose_supervision: "监管",
    purpose_other: "其他（须说明）", purpose_detail: "说明（案卷号等）",
    search_label: "贷款编号或统一社会信用代码", search: "查询",
    purpose_first: "请先选择查询用途：每次查询都会记入访问日志。",
    detail_needed: "用途为“其他”时须填写说明。",
    uscc_format: "统一社会信用代码格式不正确（18 位，不含 I、O、S、V、Z，第 3–8 位为数字）",
    uscc_check: "统一社会信用代码校验位错误，按 GB 32100-2015 应为",
    loan: "贷款", enterprise: "企业", as_of_decision: "决策时", now: "现在", depth: "深度",
    export: "导出", export_prov: "PROV-JSON", export_svg: "SVG", export_png: "PNG", export_bundle: "存证包",
    timeline: "时间线", access_log: "查询记录（谁因何查询）",
    nodes: "节点", decision: "决策", decided_at: "决策时间", no_decision: "尚无审批或拒绝事件",
    as_of: "时点", changes_since: "决策后的变化", no_changes: "决策后无变化",
    anchored_since: "条记录在决策后完成上链",
    event_application: "贷款申请", event_approval: "审批通过", event_rejection: "审批拒绝",
    event_credit_line: "授信", event_disbursement: "放款", event_fund_use: "资金用途",
    event_repayment: "还款", event_overdue: "逾期", event_default: "违约", event_settlement: "结清",
    kind_data_update: "数据更新", kind_score_change: "评分变化",
    kind_financing_event: "融资事件", kind_credit_repair: "信用修复", kind_objection: "异议", kind_erasure: "删除记录",
    change_added: "新增", change_superseded: "已被更正", change_disputed: "有异议",
    change_dispute_resolved: "异议已处理", change_erased: "已删除内容", change_anchored: "已上链",
    marker_objection: "异议案件", objection_open: "处理中", objection_corrected: "已更正",
    objection_upheld: "维持原记录", objection_rejected: "异议不成立", objection_deadline: "答复期限",
    marker_disputed: "有异议", marker_superseded: "已被更正", marker_erased: "内容已删除", marker_expired: "已过期",
    marker_repair: "信用修复案件", score_change: "评分变化",
    repair_submitted: "已提交", repair_verified: "已核实", repair_approved: "已批准（已修复）",
    repair_rejected: "已驳回",
    marker_decision: "决策事件",
    kind: "类型", record_id: "记录编号", subject: "企业", occurred_at: "发生时间",
    recorded_at: "入账时间", source: "数据来源", actor: "写入方", loan_event: "融资事件",
    commitment: "承诺值", batch: "批次", leaf: "叶序号", tx: "交易", block: "区块",
    block_time: "区块时间", committed_at: "上链确认时间", not_anchored: "尚未上链",
    verify_node: "验证此节点", verifying: "验证中…", verified: "已验证", verified_erased: "已依法删除（删除记录已验证）",
    verify_failed: "验证失败", step: "步骤", open_enterprise: "查看该企业",
    accessed_at: "时间", accessor: "查询方", query: "查询", record: "记录",
    status_passed: "通过", status_failed: "失败", status_skipped: "跳过",
    "status_not checked": "未检查", empty: "无", change: "变化", by: "由", at: "时间",
    downloaded: "已下载", loading: "加载中…",
    collapse: "折叠", collapse_none: "不折叠", collapse_kind: "按类型", collapse_source: "按来源",
    click_to_expand: "点击展开", critical_path: "关键路径", on_critical_path: "关键路径上",
  },
  en: {
    title: "Credit ledger — regulator's view", switch_language: "中文", sign_out: "Sign out",
    api_key: "Auditor API key", sign_in: "Sign in",
    key_hint: "The key is kept in this tab's sessionStorage only.",
    key_refused: "Key refused", not_auditor: "This page needs an auditor key; this key's role is",
    purpose: "Purpose", choose_purpose: "— choose a purpose —",
    purpose_loan_review: "Loan review", purpose_post_loan_monitoring: "Post-loan monitoring",
    purpose_objection_handling: "Objection handling", purpose_supervision: "Supervision",
    purpose_other: "Other (explain)", purpose_detail: "Detail (case or file reference)",
    search_label: "Loan id or unified social credit code", search: "Search",
    purpose_first: "Choose a purpose first: every query is written to the access log.",
    detail_needed: "Purpose 'other' needs a detail.",
    uscc_format: "Not a unified social credit code (18 characters, no I, O, S, V, Z; characters 3–8 digits)",
    uscc_check: "Wrong check character of the unified social credit code; GB 32100-2015 gives",
    loan: "Loan", enterprise: "Enterprise", as_of_decision: "As of decision", now: "Now",
    depth: "Depth", export: "Export", export_prov: "PROV-JSON", export_svg: "SVG", export_png: "PNG",
    export_bundle: "Lineage bundle", timeline: "Timeline",
    access_log: "Access log (who queried, and why)",
    nodes: "nodes", decision: "Decision", decided_at: "Decided at",
    no_decision: "no approval or rejection yet", as_of: "As of",
    changes_since: "Changes since the decision", no_changes: "No changes since the decision",
    anchored_since: "record(s) anchored on chain after the decision",
    event_application: "application", event_approval: "approval", event_rejection: "rejection",
    event_credit_line: "credit line", event_disbursement: "disbursement", event_fund_use: "fund use",
    event_repayment: "repayment", event_overdue: "overdue", event_default: "default",
    event_settlement: "settlement",
    kind_data_update: "Data update", kind_score_change: "Score change",
    kind_financing_event: "Financing event", kind_credit_repair: "Credit repair",
    kind_objection: "Objection", kind_erasure: "Erasure",
    change_added: "added", change_superseded: "superseded", change_disputed: "disputed",
    change_dispute_resolved: "dispute resolved", change_erased: "erased", change_anchored: "anchored",
    marker_objection: "objection case", objection_open: "open", objection_corrected: "corrected",
    objection_upheld: "record upheld", objection_rejected: "objection rejected",
    objection_deadline: "answer due",
    marker_disputed: "disputed", marker_superseded: "superseded", marker_erased: "erased", marker_expired: "expired",
    marker_repair: "credit-repair case", score_change: "score change",
    repair_submitted: "submitted", repair_verified: "verified", repair_approved: "approved (repaired)",
    repair_rejected: "rejected",
    marker_decision: "decision event",
    kind: "Kind", record_id: "Record id", subject: "Enterprise", occurred_at: "Occurred",
    recorded_at: "Recorded", source: "Source", actor: "Actor", loan_event: "Loan event",
    commitment: "Commitment", batch: "Batch", leaf: "Leaf", tx: "Transaction", block: "Block",
    block_time: "Block time", committed_at: "Committed", not_anchored: "not anchored yet",
    verify_node: "Verify this node", verifying: "Verifying…", verified: "verified", verified_erased: "lawfully erased (erasure record verified)",
    verify_failed: "verification failed", step: "Step", open_enterprise: "Open this enterprise",
    accessed_at: "Time", accessor: "Accessor", query: "Query", record: "Record",
    status_passed: "passed", status_failed: "failed", status_skipped: "skipped",
    "status_not checked": "not checked", empty: "none", change: "Change", by: "By", at: "At",
    downloaded: "downloaded", loading: "Loading…",
    collapse: "Collapse", collapse_none: "none", collapse_kind: "by kind", collapse_source: "by source",
    click_to_expand: "click to expand", critical_path: "Critical path", on_critical_path: "on the path",
  },
};

let language = sessionStorage.getItem("credit-ledger-language") || "zh";

export function lang() { return language; }

export function t(key) {
  return LABELS[language][key] ?? LABELS.zh[key] ?? key;
}

export function setLanguage(next) {
  language = next;
  sessionStorage.setItem("credit-ledger-language", next);
  applyLabels();
}

export function applyLabels(root = document) {
  document.documentElement.lang = language === "zh" ? "zh-CN" : "en";
  document.title = t("title");
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) {
    el.placeholder = t(el.dataset.i18nPlaceholder);
  }
}

// A time in the reader's local zone, with the UTC instant on hover.
export function timeElement(iso) {
  const el = document.createElement("time");
  if (!iso) { el.textContent = "—"; return el; }
  const instant = new Date(iso);
  el.dateTime = instant.toISOString();
  el.title = `UTC ${instant.toISOString()}`;
  el.textContent = instant.toLocaleString(language === "zh" ? "zh-CN" : "en-GB", {
    year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false,
  });
  return el;
}
