// Browser test of the SafetyNet web application in headless Chromium (Debian's
// package): log in, open the overview, open an alert, move it to resolved with an
// assistance measure, and find the change in the audit log. Screenshots go to
// SN_ARTIFACTS. Started by crates/web/tests/web_browser.rs, which serves the
// application and passes its address; exits non-zero on any failure.

import { chromium } from "playwright-core";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const base = process.env.SN_BASE_URL;
const user = process.env.SN_USER;
const pass = process.env.SN_PASS;
const alertId = process.env.SN_ALERT_ID;
const out = process.env.SN_ARTIFACTS || "browser-artifacts";
const exe = process.env.SN_CHROMIUM || "/usr/bin/chromium";
if (!base || !user || !pass || !alertId) {
  console.error("SN_BASE_URL, SN_USER, SN_PASS and SN_ALERT_ID are required");
  process.exit(2);
}
fs.mkdirSync(out, { recursive: true });
const profile = fs.mkdtempSync(path.join(os.tmpdir(), "sn-chromium-"));

const context = await chromium.launchPersistentContext(profile, {
  executablePath: exe,
  headless: true,
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
  viewport: { width: 1280, height: 900 },
});
const page = context.pages()[0] || (await context.newPage());
// Nothing may be fetched from outside the server.
const foreign = [];
page.on("request", (r) => { if (!r.url().startsWith(base)) foreign.push(r.url()); });

let step = "start";
const shot = (name) => page.screenshot({ path: path.join(out, name), fullPage: true });
function check(cond, what) {
  if (!cond) throw new Error(`check failed at ${step}: ${what}`);
}

try {
  step = "login";
  await page.goto(`${base}/login`);
  await page.fill("input[name=username]", user);
  await page.fill("input[name=password]", pass);
  await Promise.all([page.waitForURL(`${base}/`), page.click("button[type=submit]")]);
  step = "overview";
  check(await page.locator(".card").count() >= 6, "headline cards");
  check(await page.locator("svg.map circle").count() >= 1, "village dots on the map");
  await shot("01-overview.png");

  step = "alert queue";
  await page.goto(`${base}/alerts`);
  await shot("02-alerts.png");
  await Promise.all([page.waitForURL(`${base}/alerts/${alertId}`), page.click(`a[href="/alerts/${alertId}"] >> nth=0`)]);

  step = "move to verifying";
  const move = async (to, note) => {
    await page.selectOption("#transition-form select[name=to]", to);
    await page.fill("#transition-form input[name=note]", note);
    await Promise.all([page.waitForLoadState("load"), page.click("#transition-form button[type=submit]")]);
    const state = await page.locator("#alert-state .state").getAttribute("class");
    check(state.includes(to), `state after moving to ${to} is ${state}`);
  };
  await move("verifying", "household visited");
  step = "move to assisting";
  await move("assisting", "verified: medical costs above half the rural income");
  step = "record measure";
  await page.fill("#measure-form input[name=kind]", "medical assistance 医疗救助");
  await page.fill("#measure-form input[name=amount]", "2500.00");
  await page.fill("#measure-form input[name=note]", "paid by the civil affairs bureau");
  await Promise.all([page.waitForLoadState("load"), page.click("#measure-form button[type=submit]")]);
  check((await page.content()).includes("2500.00"), "the measure is listed");
  step = "move to resolved";
  await move("resolved", "assistance paid");
  await shot("03-alert-resolved.png");

  step = "audit log";
  await page.goto(`${base}/audit`);
  const audit = await page.content();
  check(audit.includes("alert_measure"), "audit shows the measure");
  check(audit.includes("to resolved"), "audit shows the move to resolved");
  await shot("04-audit.png");

  check(foreign.length === 0, `requests outside the server: ${foreign.join(", ")}`);
  console.log(`browser test passed; screenshots in ${out}`);
  await context.close();
} catch (e) {
  console.error(`browser test failed: ${e.message}`);
  try { await shot("failure.png"); } catch (_) {}
  await context.close();
  process.exit(1);
}
