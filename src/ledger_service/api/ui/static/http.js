// The service's /v1 API with the auditor key kept in sessionStorage (never localStorage,
// never a cookie): it lasts as long as the tab.
const KEY = "credit-ledger-api-key";

export const session = {
  get key() { return sessionStorage.getItem(KEY); },
  set key(value) {
    if (value) sessionStorage.setItem(KEY, value);
    else sessionStorage.removeItem(KEY);
  },
};

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.code = (problem.type || "").split(":").pop();
  }
}

function url(path, query) {
  const u = new URL(path, window.location.origin);
  for (const [name, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== "") u.searchParams.set(name, value);
  }
  return u;
}

export async function request(path, { query, body, key, raw } = {}) {
  const headers = { Authorization: `Bearer ${key || session.key}` };
  const init = { headers, method: body === undefined ? "GET" : "POST" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(url(path, query), init);
  if (!response.ok) {
    let problem = {};
    try { problem = await response.json(); } catch { /* not a problem document */ }
    throw new ApiError(response.status, problem);
  }
  return raw ? response.blob() : response.json();
}

// Fetch an export with the key (a plain link cannot carry the Authorization header) and hand
// it to the browser as a download.
export async function download(path, fileName, options) {
  const blob = await request(path, { ...options, raw: true });
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = fileName;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
}
