// web/app.js: the dashboard's logic: sign-in (Firebase Auth's web SDK when the daemon names a web config, or an ID token pasted), the user API (/api/v1/me...), live updates over Server-Sent Events.
// An ES module with no build step. The Firebase SDK is the daemon's copy of the npm
// package's browser modules (/assets/vendor/), loaded only when /api/v1/config names a
// Firebase web config. Money arrives as exact decimal
// text and is shown as such: the page never does arithmetic on money (the daemon sends
// the totals).

const TOKEN_KEY = "tradepulse.idToken";
const API = "/api/v1/me";
const PAGE = 20; // trade history page size

const $ = (id) => document.getElementById(id);

let token = sessionStorage.getItem(TOKEN_KEY) || "";
let tokenFrom = token ? "field" : ""; // "field" (pasted) or "firebase" (the SDK's user)
let fb = null; // { auth, signIn, signOut } once the SDK is loaded
let events = null; // the EventSource
let lastEventId = ""; // to resume when the stream is reopened with a new token
let streamToken = ""; // the token the open stream was opened with
let sdkToken = ""; // the SDK's latest token
let refreshTimer = 0;
let historyCursor = null;
let busy = false;
let currency = "USD";

class ApiError extends Error {
  constructor(status, code, message, retryAfter) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

// --- formatting (strings only: no floats for money) ------------------------------

// "1234567.5" -> "1,234,567.50"; text that is not a decimal is shown as it is.
function groupDecimal(text) {
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(String(text));
  if (!m) return String(text);
  const int = m[2].replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  let frac = m[3] || "";
  if (frac.length < 2) frac = (frac + "00").slice(0, 2);
  return `${m[1]}${int}.${frac}`;
}

function money(text) {
  if (text === null || text === undefined || text === "") return "—";
  const s = String(text);
  const neg = s.startsWith("-");
  const body = groupDecimal(neg ? s.slice(1) : s);
  const sym = currency === "USD" ? "$" : "";
  return `${neg ? "−" : ""}${sym}${body}${sym ? "" : " " + currency}`;
}

// A P&L: its sign always shown, and a class for the colour (with the sign, colour is not
// the only cue).
function signedMoney(el, text) {
  el.classList.remove("gain", "loss");
  if (text === null || text === undefined || text === "") {
    el.textContent = "—";
    return;
  }
  const s = String(text);
  const zero = /^-?0*(\.0*)?$/.test(s);
  if (s.startsWith("-") && !zero) el.classList.add("loss");
  else if (!zero) el.classList.add("gain");
  el.textContent = (s.startsWith("-") || zero ? "" : "+") + money(s);
}

function plain(text) {
  return text === null || text === undefined || text === "" ? "—" : String(text);
}

function when(ts) {
  if (!ts) return "—";
  const d = new Date(ts);
  if (Number.isNaN(d.getTime())) return String(ts);
  return d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

function cell(row, text, cls) {
  const td = document.createElement("td");
  td.textContent = text;
  if (cls) td.className = cls;
  row.appendChild(td);
  return td;
}

// --- messages ---------------------------------------------------------------------

function showAlert(text) {
  const a = $("alert");
  a.textContent = text;
  a.hidden = !text;
}

function announce(text) {
  $("live").textContent = text;
}

function setConn(state, text) {
  $("conn").dataset.state = state;
  $("conn-text").textContent = text;
}

// What the user is told for an error; a 401 also signs out.
function explain(err) {
  if (!(err instanceof ApiError)) return "Cannot reach the TradePulse server. Check your connection; the page retries on its own.";
  switch (err.status) {
    case 401:
      signOut("Your sign-in has expired or is not valid. Sign in again.");
      return null;
    case 403:
      return `Not allowed: ${err.message || "your account may not do this."}`;
    case 429:
      return `Too many requests: wait ${err.retryAfter ? err.retryAfter + " s" : "a moment"} and try again.`;
    case 404:
      return `Not found: ${err.message || "no such account on this server."}`;
    case 503:
      return `The service is busy or unavailable: ${err.message || "try again shortly."}`;
    default:
      return `Error ${err.status}${err.code ? " (" + err.code + ")" : ""}: ${err.message || "something went wrong."}`;
  }
}

function fail(err) {
  const msg = explain(err);
  if (msg) showAlert(msg);
}

// --- the API ----------------------------------------------------------------------

async function api(path, options = {}) {
  // The SDK refreshes its token only when asked (in its last 30 s or once expired): ask before
  // each call. A new token also reaches onIdTokenChanged (firebaseUser), which reopens the
  // event stream with it.
  if (tokenFrom === "firebase" && fb && fb.auth.currentUser) {
    try {
      token = await fb.auth.currentUser.getIdToken();
    } catch {
      // cannot reach Firebase: the call goes with the token held (401 once it has expired)
    }
  }
  const headers = { Accept: "application/json", Authorization: `Bearer ${token}` };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  let res;
  try {
    res = await fetch(path, {
      method: options.method || "GET",
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      cache: "no-store",
      credentials: "omit",
    });
  } catch (e) {
    throw e; // a network error: no ApiError
  }
  let data = null;
  try {
    data = await res.json();
  } catch {
    data = null;
  }
  if (!res.ok) {
    const e = (data && data.error) || {};
    throw new ApiError(res.status, e.code || "", e.message || res.statusText, res.headers.get("Retry-After"));
  }
  return data;
}

// --- rendering ----------------------------------------------------------------------

function renderMe(me) {
  $("uid").textContent = me.uid;
  const snap = me.snapshot;
  if (snap && snap.currency) currency = snap.currency;
  $("no-snapshot").hidden = !!snap;
  $("figures").hidden = !snap;
  if (snap) {
    for (const [id, key] of [["equity", "equity"], ["cash", "cash"], ["buying-power", "buying_power"]]) {
      $(id).textContent = money(snap[key]);
      $(id).dataset.value = snap[key] ?? "";
    }
    $("acct-status").textContent = plain(snap.status);
    const at = snap.updated_at || snap.synced_at; // the store's name for it is synced_at
    $("updated").textContent = at ? `Synced ${when(at)}` : "";
  } else {
    $("updated").textContent = "";
  }

  const ls = me.last_sync;
  const se = $("sync-error");
  if (ls && ls.ok === false) {
    const e = ls.error || {};
    se.textContent = `The last sync failed${ls.at ? " (" + when(ls.at) + ")" : ""}: ${e.message || e.code || "unknown error"}`;
    se.hidden = false;
  } else {
    se.hidden = true;
  }

  const tr = me.trading || { enabled: true };
  const st = $("trading-state");
  st.dataset.enabled = String(!!tr.enabled);
  if (tr.enabled) {
    st.textContent = "Trading is on: each pulse syncs your account and manages your trades.";
  } else {
    st.textContent = `Trading is stopped${tr.reason ? ": " + tr.reason : ""}${tr.by ? " (by " + tr.by + ")" : ""}.`;
  }
  $("kill-form").hidden = !tr.enabled;
  $("kill-note").hidden = !!tr.enabled;

  const rows = $("open-rows");
  const trades = me.open_trades || [];
  rows.replaceChildren();
  for (const t of trades) {
    const r = document.createElement("tr");
    r.dataset.id = t.id;
    const th = document.createElement("th");
    th.scope = "row";
    th.textContent = t.symbol;
    r.appendChild(th);
    cell(r, plain(t.side), "opt");
    cell(r, plain(t.qty), "num opt");
    cell(r, money(t.entry_price), "num opt");
    cell(r, money(t.current_price), "num");
    const p = cell(r, "", "num pnl");
    signedMoney(p, t.unrealized_pnl);
    cell(r, t.pnl_percent === null || t.pnl_percent === undefined ? "—" : `${t.pnl_percent}%`, "num");
    cell(r, when(t.created_at), "opt");
    rows.appendChild(r);
  }
  $("open-count").textContent = `(${me.open_count ?? trades.length})`;
  $("open-empty").hidden = trades.length > 0;
  $("open-wrap").hidden = trades.length === 0;
  $("total-line").hidden = trades.length === 0;
  const total = $("total-pnl");
  const prev = total.dataset.value;
  total.dataset.value = me.total_unrealized_pnl ?? "";
  signedMoney(total, me.total_unrealized_pnl);
  if (prev && prev !== total.dataset.value) announce(`Total unrealized P&L is now ${total.textContent}`);
}

function historyRow(t) {
  const r = document.createElement("tr");
  r.dataset.id = t.id;
  const th = document.createElement("th");
  th.scope = "row";
  th.textContent = t.symbol;
  r.appendChild(th);
  cell(r, plain(t.side), "opt");
  cell(r, plain(t.qty), "num opt");
  cell(r, money(t.entry_price), "num opt");
  cell(r, money(t.exit_price), "num");
  const p = cell(r, "", "num pnl");
  signedMoney(p, t.status === "CLOSED" ? t.realized_pnl : t.unrealized_pnl);
  cell(r, t.status === "CLOSED" && t.close_reason ? `Closed (${String(t.close_reason).replace(/_/g, " ")})` : t.status === "CLOSED" ? "Closed" : "Open");
  cell(r, when(t.created_at), "opt");
  return r;
}

function renderSignals(list) {
  const ol = $("signal-list");
  ol.replaceChildren();
  for (const s of list) {
    const li = document.createElement("li");
    li.dataset.id = s.id;
    const head = document.createElement("p");
    head.className = "sig-head";
    const act = document.createElement("span");
    act.className = `action ${String(s.action).toLowerCase()}`;
    act.textContent = plain(s.action);
    const sym = document.createElement("strong");
    sym.textContent = plain(s.symbol);
    const meta = document.createElement("span");
    meta.className = "muted";
    const conf = s.confidence === null || s.confidence === undefined ? "" : ` · confidence ${s.confidence}`;
    meta.textContent = `${s.price !== undefined && s.price !== null ? " at " + money(s.price) : ""}${conf} · ${when(s.timestamp)}`;
    head.append(act, " ", sym, meta);
    li.appendChild(head);
    const why = s.reason || s.reasoning;
    if (why) {
      const p = document.createElement("p");
      p.className = "muted";
      p.textContent = why;
      li.appendChild(p);
    }
    ol.appendChild(li);
  }
  $("signals-empty").hidden = list.length > 0;
}

// --- loading ----------------------------------------------------------------------

async function loadMe() {
  renderMe(await api(API));
}

async function loadSignals() {
  const r = await api(`${API}/signals?limit=20`);
  renderSignals(r.signals || []);
}

async function loadHistory(more) {
  const q = new URLSearchParams({ status: "all", limit: String(PAGE) });
  if (more && historyCursor) q.set("cursor", historyCursor);
  const r = await api(`${API}/trades?${q}`);
  const rows = $("history-rows");
  if (!more) rows.replaceChildren();
  for (const t of r.trades || []) rows.appendChild(historyRow(t));
  historyCursor = r.next_cursor || null;
  $("more").hidden = !historyCursor;
  const n = rows.children.length;
  $("history-empty").hidden = n > 0;
  $("history-wrap").hidden = n === 0;
}

// Everything again (the first load, an update, a reset of the event stream). The history
// restarts at its first page so that it matches the open trades.
async function refresh(why) {
  try {
    await Promise.all([loadMe(), loadSignals(), loadHistory(false)]);
    showAlert("");
    document.documentElement.dataset.refreshes = String(Number(document.documentElement.dataset.refreshes || 0) + 1);
    if (why) document.documentElement.dataset.lastUpdate = why;
  } catch (e) {
    fail(e);
  } finally {
    $("loading").hidden = true;
  }
}

function scheduleRefresh(why) {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => refresh(why), 150);
}

// --- live updates -------------------------------------------------------------------

function connect() {
  disconnect();
  // EventSource cannot send headers: the token goes in the query (this endpoint only).
  // On a reconnect the browser sends Last-Event-ID itself, and the daemon replays.
  // A new stream (a refreshed token) resumes after the last event seen.
  streamToken = token;
  const q = new URLSearchParams({ access_token: token });
  if (lastEventId) q.set("last_event_id", lastEventId);
  events = new EventSource(`${API}/events?${q}`);
  setConn("connecting", "Connecting…");
  events.onopen = () => setConn("live", "Live");
  events.onerror = () => {
    if (!events) return;
    if (events.readyState === EventSource.CLOSED) {
      // refused (401/403/429...) or gone: find out why through the API, retry later
      setConn("off", "Disconnected");
      events = null;
      api(API).then(() => setTimeout(() => token && !events && connect(), 5000), fail);
    } else {
      setConn("connecting", "Reconnecting…");
    }
  };
  for (const type of ["snapshot", "trade", "signal", "trading", "reset", "error", "quarantine"]) {
    events.addEventListener(type, (e) => {
      if (e.lastEventId) lastEventId = e.lastEventId;
      scheduleRefresh(type);
    });
  }
}

function disconnect() {
  if (events) events.close();
  events = null;
  setConn("off", "Not connected");
}

// --- sign-in ------------------------------------------------------------------------

function showSignin() {
  $("signin").hidden = false;
  $("dash").hidden = true;
  $("signout").hidden = true;
  $(fb ? "email" : "token").focus();
}

function signOut(message) {
  const wasFirebase = tokenFrom === "firebase";
  token = "";
  tokenFrom = "";
  lastEventId = "";
  sdkToken = "";
  sessionStorage.removeItem(TOKEN_KEY);
  disconnect();
  // the SDK forgets its user too (else it would sign the page straight back in)
  if (wasFirebase && fb) fb.signOut().catch(() => {});
  showAlert(message || "");
  showSignin();
}

// --- Firebase Auth's web SDK (when the daemon names a web config) ---------------------

function signinStatus(text) {
  $("signin-status").textContent = text;
}

// What a failed password sign-in is told (the SDK's error codes).
function authMessage(e) {
  switch (e && e.code) {
    case "auth/invalid-credential":
    case "auth/invalid-login-credentials":
    case "auth/wrong-password":
    case "auth/user-not-found":
      return "Wrong email or password.";
    case "auth/invalid-email":
      return "That is not an email address.";
    case "auth/user-disabled":
      return "This account is disabled.";
    case "auth/too-many-requests":
      return "Too many attempts: wait a while and try again.";
    case "auth/network-request-failed":
      return "Cannot reach Firebase Authentication. Check your connection.";
    default:
      return `Sign-in failed${e && e.code ? " (" + e.code + ")" : ""}.`;
  }
}

// The SDK's token for the API and the event stream: set when a user signs in, and again
// each time the SDK refreshes it (an ID token lasts an hour).
async function firebaseUser(user) {
  if (!user) {
    if (tokenFrom === "firebase") signOut("Signed out.");
    return;
  }
  let t;
  try {
    t = await user.getIdToken();
  } catch (e) {
    showAlert(authMessage(e));
    return;
  }
  const first = tokenFrom !== "firebase" || $("dash").hidden;
  if (t !== sdkToken) {
    const root = document.documentElement.dataset;
    root.sdkTokens = String(Number(root.sdkTokens || 0) + 1); // tokens the SDK gave (tests read it)
    sdkToken = t;
  }
  token = t;
  tokenFrom = "firebase";
  sessionStorage.removeItem(TOKEN_KEY); // the SDK keeps its own session
  if (first) {
    signinStatus("");
    showAlert("");
    start();
    $("main").focus();
  } else if (events && streamToken !== t) {
    connect(); // the stream was opened with the old token
  }
}

async function setupFirebase() {
  let cfg;
  try {
    cfg = await (await fetch("/api/v1/config", { cache: "no-store", credentials: "omit" })).json();
  } catch {
    return; // an older daemon, or none: the token field alone
  }
  const c = cfg && cfg.firebase;
  if (!c || !c.apiKey) return;
  let app, auth;
  try {
    app = await import("/assets/vendor/firebase-app.js");
    auth = await import("/assets/vendor/firebase-auth.js");
  } catch {
    signinStatus("This server is configured for Firebase sign-in but does not serve the Firebase SDK " +
      "(installed with the npm package firebase): use an ID token below.");
    return;
  }
  const fbApp = app.initializeApp({ apiKey: c.apiKey, authDomain: c.authDomain || undefined, projectId: c.projectId });
  // This tab only, like a pasted token: gone when the tab closes.
  const a = auth.initializeAuth(fbApp, { persistence: auth.browserSessionPersistence });
  if (c.emulator) auth.connectAuthEmulator(a, c.emulator, { disableWarnings: true });
  fb = {
    auth: a,
    signIn: (email, password) => auth.signInWithEmailAndPassword(a, email, password),
    signOut: () => auth.signOut(a),
  };
  document.documentElement.dataset.signin = c.emulator ? "firebase-emulator" : "firebase";
  $("password-form").hidden = false;
  if (tokenFrom !== "field") $("dev").open = false;
  if (!$("signin").hidden) $("email").focus();
  auth.onIdTokenChanged(a, (user) => firebaseUser(user));
}

$("password-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  if (!fb) return;
  const email = $("email").value.trim();
  const password = $("password").value;
  if (!email || !password) {
    signinStatus("Enter your email and password.");
    $(email ? "password" : "email").focus();
    return;
  }
  $("password-submit").disabled = true;
  signinStatus("Signing in…");
  try {
    await fb.signIn(email, password); // onIdTokenChanged opens the dashboard
    $("password").value = "";
  } catch (e) {
    signinStatus("");
    showAlert(authMessage(e));
    $("password").focus();
  } finally {
    $("password-submit").disabled = false;
  }
});

function start() {
  $("signin").hidden = true;
  $("dash").hidden = false;
  $("signout").hidden = false;
  $("loading").hidden = false;
  historyCursor = null;
  refresh("load");
  connect();
}

$("signin-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const t = $("token").value.trim();
  if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(t)) {
    showAlert("That is not an ID token: three base64url parts separated by dots.");
    $("token").focus();
    return;
  }
  token = t;
  tokenFrom = "field";
  sessionStorage.setItem(TOKEN_KEY, t);
  $("token").value = "";
  showAlert("");
  start();
  $("main").focus();
});

$("signout").addEventListener("click", () => signOut("Signed out."));

$("more").addEventListener("click", async () => {
  const b = $("more");
  b.disabled = true;
  try {
    await loadHistory(true);
  } catch (e) {
    fail(e);
  } finally {
    b.disabled = false;
  }
});

$("signal-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const input = $("symbol");
  const symbol = input.value.trim().toUpperCase();
  if (!input.checkValidity() || !symbol) {
    $("signal-status").textContent = "Enter a symbol such as AAPL (letters, digits, . or -).";
    input.focus();
    return;
  }
  if (busy) return;
  busy = true;
  $("generate").disabled = true;
  $("signal-status").textContent = `Computing a signal for ${symbol}…`;
  try {
    const s = await api(`${API}/signals`, { method: "POST", body: { symbol } });
    $("signal-status").textContent = `New signal: ${s.action} ${s.symbol}.`;
    await loadSignals();
  } catch (e) {
    $("signal-status").textContent = "";
    fail(e);
  } finally {
    busy = false;
    $("generate").disabled = false;
  }
});

$("kill-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const reason = $("kill-reason").value.trim() || "stopped from the dashboard";
  $("kill").disabled = true;
  try {
    await api(`${API}/trading`, { method: "POST", body: { enabled: false, reason } });
    announce("Trading is stopped.");
    await loadMe();
  } catch (e) {
    fail(e);
  } finally {
    $("kill").disabled = false;
  }
});

if (token) start();
else showSignin();
setupFirebase();
