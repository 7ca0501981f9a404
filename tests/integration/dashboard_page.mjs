// tests/integration/dashboard_page.mjs: drives headless Chromium (playwright-core) for dashboard_page.sh: one JSON command a line on stdin, one JSON reply a line on stdout.
//
// usage: node dashboard_page.mjs PLAYWRIGHT_CORE_DIR CHROMIUM
// Commands ({"op": ...}): goto url | fill sel value | click sel | key key | eval js (an expression;
// its value is returned) | wait js [timeout_ms] (until the expression is true) |
// viewport width height | shot path | clock_install (a controllable clock that keeps
// running, before goto) | clock_forward ms (jumps, firing the timers due) | status (navigations, console errors, CSP
// violations, the origins requested) | quit. Every reply is {"ok": true, ...} or
// {"ok": false, "error": "..."}; the shell script makes the assertions.
import { createRequire } from "node:module";
import readline from "node:readline";

const [pwDir, chromium] = process.argv.slice(2);
const require = createRequire(`${pwDir}/`);
const { chromium: launcher } = require("playwright-core");

const browser = await launcher.launch({
  executablePath: chromium,
  headless: true,
  // as root (CI, this machine) Chromium refuses to start with its sandbox
  args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
});
const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
const page = await context.newPage();
page.setDefaultTimeout(15000);

let navigations = 0;
const consoleErrors = [];
const origins = new Set();
page.on("framenavigated", (f) => {
  if (f === page.mainFrame()) navigations++;
});
page.on("console", (m) => {
  if (m.type() === "error") consoleErrors.push(m.text());
});
page.on("pageerror", (e) => consoleErrors.push(`pageerror: ${e.message}`));
page.on("request", (r) => {
  try {
    origins.add(new URL(r.url()).origin);
  } catch {
    origins.add(r.url());
  }
});

async function run(c) {
  switch (c.op) {
    case "goto":
      await page.goto(c.url, { waitUntil: "load" });
      return {};
    case "fill":
      await page.fill(c.sel, c.value);
      return {};
    case "click":
      await page.click(c.sel);
      return {};
    case "key":
      await page.keyboard.press(c.key);
      return {};
    case "eval":
      return { value: await page.evaluate(c.js) };
    case "wait": {
      // polled here with page.evaluate (the DevTools protocol, outside the page's CSP):
      // waitForFunction evaluates a string with eval inside the page, which the CSP refuses
      const end = Date.now() + (c.timeout_ms || 15000);
      let last;
      for (;;) {
        try {
          last = await page.evaluate(c.js);
        } catch (e) {
          last = `error: ${e.message}`; // e.g. during a navigation: poll again
        }
        if (last === true) return {};
        if (Date.now() > end) throw new Error(`not true within ${c.timeout_ms || 15000} ms (last: ${JSON.stringify(last)})`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    case "viewport":
      await page.setViewportSize({ width: c.width, height: c.height });
      return {};
    case "clock_install":
      await page.clock.install();
      return {};
    case "clock_forward":
      await page.clock.fastForward(c.ms);
      return {};
    case "shot":
      await page.screenshot({ path: c.path, fullPage: true });
      return { path: c.path };
    case "status": {
      const csp = await page.evaluate(() => window.__tpCspViolations || []);
      return { navigations, console_errors: consoleErrors, csp_violations: csp, origins: [...origins] };
    }
    case "quit":
      await browser.close();
      return {};
    default:
      throw new Error(`unknown op ${c.op}`);
  }
}

// Collects the CSP violations of every document the page loads.
await context.addInitScript(() => {
  window.__tpCspViolations = [];
  document.addEventListener("securitypolicyviolation", (e) =>
    window.__tpCspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));
});

const rl = readline.createInterface({ input: process.stdin });
for await (const line of rl) {
  let c;
  let reply;
  try {
    c = JSON.parse(line);
    reply = { ok: true, ...(await run(c)) };
  } catch (e) {
    reply = { ok: false, error: String(e && e.message ? e.message : e).split("\n").slice(0, 6).join(" | ") };
  }
  process.stdout.write(JSON.stringify(reply) + "\n");
  if (c && c.op === "quit") break;
}
process.exit(0);
