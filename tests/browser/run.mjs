// Browser test of the SafetyNet web application in headless Chromium (Debian's
// package): a township officer's daily casework, end to end in the real pages.
// Log in; read the report's assisted-households figure of the county; open the
// case list (overdue first) and the case of the fixture's alert; assign it,
// verify it on a visit (the household becomes monitored), record a measure,
// verify again, close it as risk eliminated; see the state and the history; see
// the alert resolved with its case, the report's figure moved up, and the moves
// in the audit log. A screenshot of every step goes to SN_ARTIFACTS; on a failure
// the step, the page's address, failure.png and failure.html.
//
// Started by crates/web/tests/web_browser.rs, which serves the application and
// passes its address, the case, its alert and the server's day; exits non-zero on
// any failure.

import { chromium } from "playwright-core";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const base = process.env.SN_BASE_URL;
const user = process.env.SN_USER;
const pass = process.env.SN_PASS;
const county = process.env.SN_COUNTY;
const caseId = process.env.SN_CASE_ID;
const alertId = process.env.SN_ALERT_ID;
// The server's day (UTC): what the date fields must offer and the tables show.
const today = process.env.SN_TODAY;
const out = process.env.SN_ARTIFACTS || "browser-artifacts";
const exe = process.env.SN_CHROMIUM || "/usr/bin/chromium";
if (!base || !user || !pass || !county || !caseId || !alertId || !today) {
  console.error("SN_BASE_URL, SN_USER, SN_PASS, SN_COUNTY, SN_CASE_ID, SN_ALERT_ID and SN_TODAY are required");
  process.exit(2);
}
fs.mkdirSync(out, { recursive: true });
const profile = fs.mkdtempSync(path.join(os.tmpdir(), "sn-chromium-"));
const started = Date.now();

const context = await chromium.launchPersistentContext(profile, {
  executablePath: exe,
  headless: true,
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
  viewport: { width: 1280, height: 900 },
});
context.setDefaultTimeout(15000);
const page = context.pages()[0] || (await context.newPage());
// Nothing may be fetched from outside the server.
const foreign = [];
page.on("request", (r) => { if (!r.url().startsWith(base)) foreign.push(r.url()); });
// What the page's scripts complain about is kept for the failure report.
const consoleErrors = [];
// (A resource that failed to load is named by the response listener below, with its address.)
page.on("console", (m) => {
  if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) consoleErrors.push(m.text());
});
page.on("pageerror", (e) => consoleErrors.push(String(e)));
page.on("response", (r) => { if (r.status() >= 400) consoleErrors.push(`HTTP ${r.status()} ${r.request().method()} ${r.url()}`); });

let step = "start";
const timings = [];
const shot = (name) => page.screenshot({ path: path.join(out, name), fullPage: true });
function check(cond, what) {
  if (!cond) throw new Error(`check failed at step "${step}": ${what}`);
}
/** Runs one named step of the walk, timed. */
async function walk(name, fn) {
  step = name;
  const t0 = Date.now();
  await fn();
  timings.push(`${name} ${Date.now() - t0} ms`);
}
const text = async (sel) => ((await page.locator(sel).first().textContent()) ?? "").trim();
const caseUrl = `${base}/cases/${caseId}`;

/** Submits the form `#id` and waits for the page it answers; a form the browser
 * refuses to send (a field out of its bounds) or a refusal the server draws on
 * the page fails the step, naming the fields or the server's words. */
async function submit(id) {
  const form = page.locator(`#${id}`);
  check(await form.count() === 1, `the form #${id} is on the page`);
  const invalid = await form.evaluate((f) =>
    f.checkValidity() ? null : [...f.elements].filter((e) => e.willValidate && !e.checkValidity())
      .map((e) => `${e.name}=${JSON.stringify(e.value)}: ${e.validationMessage}`).join("; "));
  check(invalid === null, `the browser will not send #${id}: ${invalid}`);
  const [resp] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === "POST" && r.url().startsWith(base)),
    page.waitForEvent("load"),
    form.locator("button[type=submit]").click(),
  ]);
  const refusal = await page.locator("#form-error").count() ? await text("#form-error") : null;
  check(refusal === null, `the server refused #${id} (HTTP ${resp.status()}): ${refusal}`);
  check(page.url() === caseUrl, `back on the case after #${id}, not at ${page.url()}`);
}

/** The case's state and version as the page shows them. */
async function caseFacts() {
  const cls = (await page.locator("#case-state .state").getAttribute("class")) ?? "";
  const state = (cls.match(/case-(\w+)/) ?? [])[1];
  const version = Number(await text("#case-version"));
  return { state, version };
}
/** The version each move form carries, which must be the one shown. */
async function formVersions() {
  return page.locator("form input[type=hidden][name=version]").evaluateAll((xs) => xs.map((x) => Number(x.value)));
}
async function expectCase(state, version, what) {
  const f = await caseFacts();
  check(f.state === state, `${what}: state is ${f.state}, expected ${state}`);
  check(f.version === version, `${what}: version is ${f.version}, expected ${version}`);
  if (state !== "closed") {
    const vs = await formVersions();
    check(vs.length >= 3 && vs.every((v) => v === version), `${what}: the forms carry versions ${vs}, expected ${version}`);
  }
}

/** The assisted-households share of the county on /reports: the cell's title is
 * "numerator / denominator", its text the value. */
async function assistedFigure() {
  await page.goto(`${base}/reports`);
  check(await page.locator("#report-table").count() === 1, "the report table");
  const col = await page.locator("#report-table thead th").evaluateAll((ths) =>
    ths.findIndex((th) => (th.getAttribute("title") ?? "").includes("households_assisted")));
  check(col >= 0, "a column counting the assisted households (households_assisted)");
  const cell = await page.locator("#report-table tbody tr").evaluateAll((trs, [code, col]) => {
    const tr = trs.find((tr) => tr.cells[1]?.textContent.trim() === code);
    return tr ? { title: tr.cells[col].getAttribute("title"), value: tr.cells[col].textContent.trim() } : null;
  }, [county, col]);
  check(cell !== null, `a row of county ${county}`);
  const [num, den] = (cell.title ?? "").split("/").map((s) => Number(s.trim()));
  check(Number.isFinite(num) && Number.isFinite(den), `the cell's title "${cell.title}" is "assisted / warned"`);
  return { assisted: num, warned: den, shown: cell.value };
}

try {
  await walk("log in", async () => {
    await page.goto(`${base}/login`);
    await page.fill("input[name=username]", user);
    await page.fill("input[name=password]", pass);
    await Promise.all([page.waitForURL(`${base}/`), page.click("button[type=submit]")]);
    check(await page.locator(".card").count() >= 6, "headline cards");
    check(await page.locator("svg.map circle").count() >= 1, "village dots on the map");
    await shot("01-overview.png");
  });

  let before;
  await walk("report before", async () => {
    before = await assistedFigure();
    check(before.warned >= 1, `the county has a warned household (${JSON.stringify(before)})`);
    check(before.assisted < before.warned, `not every warned household is assisted yet (${JSON.stringify(before)})`);
    await shot("02-reports-before.png");
  });

  await walk("case list", async () => {
    await Promise.all([page.waitForURL(`${base}/cases`), page.click("header nav a[href='/cases']")]);
    const link = page.locator(`table a[href="/cases/${caseId}"]`);
    check(await link.count() === 1, `case #${caseId} is listed`);
    const row = page.locator("table tbody tr", { has: page.locator(`a[href="/cases/${caseId}"]`) });
    check(await row.locator(".state.case-open").count() === 1, "the case is listed as open");
    check(await row.locator(".overdue").count() === 1, "the case is marked overdue");
    // Overdue cases come first.
    const first = await page.locator("table tbody tr").first().locator("a[href^='/cases/']").getAttribute("href");
    check(first === `/cases/${caseId}`, `the overdue case is listed first, not ${first}`);
    check(await page.locator("p.note .overdue").count() === 1, "the count of overdue cases above the list");
    await shot("03-cases.png");
    await Promise.all([page.waitForURL(caseUrl), link.click()]);
  });

  await walk("case opened", async () => {
    await expectCase("open", 1, "a new case");
    check(await page.locator(`#case-facts .overdue`).count() === 1, "the case page marks it overdue");
    check(await page.locator(`a[href="/alerts/${alertId}"]`).count() === 1, `the case lists alert #${alertId}`);
    check(await page.locator("#measure-form").count() === 0, "no measure before the verification");
    await shot("04-case-open.png");
  });

  await walk("assign", async () => {
    check(await page.inputValue("#assign-form input[name=assignee]") === user, "the assignee offered is the officer");
    // The deadline has passed: the officer sets a new one, a week from today.
    const due = new Date(`${today}T00:00:00Z`);
    due.setUTCDate(due.getUTCDate() + 7);
    const dueDay = due.toISOString().slice(0, 10);
    await page.fill("#assign-form input[name=due]", dueDay);
    await submit("assign-form");
    await expectCase("assigned", 2, "after the assignment");
    const facts = await text("#case-facts");
    check(facts.includes(user), `the assignee is shown: ${facts}`);
    check(facts.includes(dueDay), `the new deadline ${dueDay} is shown: ${facts}`);
    check(await page.locator("#case-facts .overdue").count() === 0, "no longer overdue");
    await shot("05-case-assigned.png");
  });

  const verify = async (findings) => {
    check(await page.inputValue("#verify-form input[name=date]") === today, `the visit's day offered is ${today}`);
    await page.fill("#verify-form input[name=date]", today);
    await page.fill("#verify-form input[name=visitors]", `${user}, 村医 王医生`);
    await page.fill("#verify-form textarea[name=findings]", findings);
    await page.check("#verify-form input[name=monitored]");
    await submit("verify-form");
  };

  await walk("verify", async () => {
    await verify("入户核实：住院自付费用超过家庭收入一半 (out-of-pocket above half the income)");
    await expectCase("verified", 3, "after the verification");
    const facts = await text("#case-facts");
    check(facts.includes(today), `verified on ${today}: ${facts}`);
    check(await page.locator("#measure-form").count() === 1, "the measure form, once verified");
    await shot("06-case-verified.png");
  });

  await walk("record measure", async () => {
    check(await page.inputValue("#measure-form input[name=date]") === today, `the measure's day offered is ${today}`);
    await page.fill("#measure-form input[name=kind]", "medical assistance 医疗救助");
    await page.fill("#measure-form input[name=amount]", "2500.00");
    await page.fill("#measure-form input[name=fund]", "civil affairs 民政");
    await page.fill("#measure-form input[name=date]", today);
    await page.fill("#measure-form input[name=note]", "paid by the civil affairs bureau");
    await submit("measure-form");
    await expectCase("assisting", 4, "after the measure");
    const body = await page.content();
    check(body.includes("2500.00") && body.includes("medical assistance 医疗救助"), "the measure is listed");
    await shot("07-case-measure.png");
  });

  await walk("verify again", async () => {
    await verify("复核：救助已到位，风险消除 (assistance received)");
    await expectCase("assisting", 5, "after the second verification");
    await shot("08-case-verified-again.png");
  });

  await walk("close", async () => {
    await page.selectOption("#close-form select[name=reason]", "risk_eliminated");
    await page.fill("#close-form textarea[name=note]", "medical costs covered; household income back above the line");
    await submit("close-form");
    await expectCase("closed", 6, "after the close");
    check(await page.locator("form[action^='/cases/']").count() === 0, "a closed case offers no move");
    const facts = await text("#case-facts");
    check(/risk eliminated|风险消除/.test(facts), `the close reason is shown: ${facts}`);
    // The history: open, assign, verify, measure, verify, close, each by whom and from which state.
    const history = page.locator("h2", { hasText: /History|处理经过/ }).locator("xpath=following-sibling::table[1]");
    check(await history.count() === 1, "the history table");
    const rows = await history.locator("tbody tr").evaluateAll((trs) =>
      trs.map((tr) => [...tr.cells].map((c) => c.textContent.trim())));
    const actions = rows.map((r) => r[2]);
    check(JSON.stringify(actions) === JSON.stringify(["open", "assign", "verify", "measure", "verify", "close"]),
      `the history's moves: ${JSON.stringify(actions)}`);
    check(rows.slice(1).every((r) => r[1] === user), `every move by ${user}: ${JSON.stringify(rows.map((r) => r[1]))}`);
    // The close note is kept in the history (the facts show the reason only).
    check(rows[5][4].includes("household income back above the line"), `the close note in the history: ${rows[5][4]}`);
    const lastState = await history.locator("tbody tr").last().locator(".state").evaluateAll((xs) => xs.map((x) => x.className));
    check(lastState.some((c) => c.includes("case-assisting")) && lastState.some((c) => c.includes("case-closed")),
      `the close moved assisting → closed: ${lastState}`);
    // Both verification visits are on the case, dated today.
    const visits = page.locator("h2", { hasText: /Visits|走访/ }).locator("xpath=following-sibling::table[1]");
    const days = await visits.locator("tbody tr").evaluateAll((trs) => trs.map((tr) => tr.cells[0].textContent.trim()));
    check(days.length === 2 && days.every((d) => d === today), `two visits dated ${today}: ${days}`);
    await shot("09-case-closed.png");
  });

  await walk("alert resolved with its case", async () => {
    await Promise.all([page.waitForURL(`${base}/alerts/${alertId}`), page.click(`a[href="/alerts/${alertId}"]`)]);
    const state = await page.locator("#alert-state .state").getAttribute("class");
    check((state ?? "").includes("resolved"), `the alert's state is ${state}`);
    check((await page.content()).includes(`case ${caseId} closed`), `the alert's history names case ${caseId}`);
    await shot("10-alert-resolved.png");
  });

  await walk("report after", async () => {
    let after = await assistedFigure();
    if (after.assisted === before.assisted) {
      // The figures may be refreshed on the next reading.
      console.log("report: the assisted figure had not moved yet; reloading /reports");
      await page.reload();
      after = await assistedFigure();
    }
    check(after.assisted === before.assisted + 1,
      `the assisted households went from ${before.assisted} to ${after.assisted}, expected one more`);
    check(after.warned === before.warned, `the warned households stay ${before.warned}: ${after.warned}`);
    check(after.shown !== before.shown, `the shown share moved from ${before.shown}: ${after.shown}`);
    console.log(`assisted households of ${county}: ${before.assisted}/${before.warned} (${before.shown}) -> ` +
      `${after.assisted}/${after.warned} (${after.shown})`);
    await shot("11-reports-after.png");
  });

  await walk("audit log", async () => {
    await page.goto(`${base}/audit`);
    const rows = await page.locator("table tbody tr").evaluateAll((trs) =>
      trs.map((tr) => [...tr.cells].map((c) => c.textContent.trim())));
    for (const action of ["case_assign", "case_verify", "case_measure", "case_close"]) {
      check(rows.some((r) => r[1] === user && r[2] === action), `the audit log shows ${action} by ${user}`);
    }
    const verifies = rows.filter((r) => r[1] === user && r[2] === "case_verify").length;
    check(verifies === 2, `two verifications audited, not ${verifies}`);
    await shot("12-audit.png");
  });

  check(foreign.length === 0, `requests outside the server: ${foreign.join(", ")}`);
  console.log(`browser test passed in ${((Date.now() - started) / 1000).toFixed(1)} s; screenshots in ${out}`);
  console.log(`steps: ${timings.join(", ")}`);
  await context.close();
} catch (e) {
  console.error(`browser test failed at step "${step}" on ${page.url()}: ${e.message}`);
  if (timings.length) console.error(`steps passed: ${timings.join(", ")}`);
  if (consoleErrors.length) console.error(`the page's console errors: ${consoleErrors.join(" | ")}`);
  try { await shot("failure.png"); } catch (_) {}
  try {
    fs.writeFileSync(path.join(out, "failure.html"), await page.content());
    console.error(`the page is saved in ${path.join(out, "failure.html")} and failure.png`);
  } catch (_) {}
  await context.close();
  process.exit(1);
}
