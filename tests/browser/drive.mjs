// Drives Debian's Chromium through an approver's pages for tests/it/browser.rs.
//
//   node drive.mjs <steps.json>
//
// steps.json: {"screenshots": dir, "steps": [{"do": ..., ...}, ...]}, where a
// step is one of
//   {"do": "visit",   "url": u, "shot": name}                      open, look
//   {"do": "approve", "url": u, "comment": text?, "shot": name}    open, type, press the button
//   {"do": "scan",    "url": u}                                    open, let scripts run, click nothing
// It prints one JSON line per step: {status, title, heading, badge, text}.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const plan = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  // No sandbox as root; no calls home from a machine without a network.
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});

async function look(page, response, shot) {
  if (shot) {
    await page.screenshot({ path: join(plan.screenshots, `${shot}.png`), fullPage: true });
  }
  return {
    status: response ? response.status() : null,
    title: await page.title(),
    heading: await page.locator('h1').first().textContent().catch(() => null),
    badge: await page.locator('.status').first().textContent().catch(() => null),
    text: await page.locator('body').innerText(),
  };
}

try {
  for (const step of plan.steps) {
    // A phone-sized window: the pages must work there.
    const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const page = await context.newPage();
    let result;
    if (step.do === 'visit') {
      const response = await page.goto(step.url);
      result = await look(page, response, step.shot);
    } else if (step.do === 'approve') {
      await page.goto(step.url);
      if (step.shot) {
        await page.screenshot({ path: join(plan.screenshots, `${step.shot}-confirm.png`), fullPage: true });
      }
      if (step.comment !== undefined) {
        await page.getByLabel(/Comment/).fill(step.comment);
      }
      const [response] = await Promise.all([
        page.waitForNavigation(),
        page.getByRole('button').click(),
      ]);
      result = await look(page, response, step.shot);
    } else if (step.do === 'scan') {
      // What a mail scanner's browser does: load, run scripts, wait, leave.
      const response = await page.goto(step.url, { waitUntil: 'networkidle' });
      await page.waitForTimeout(500);
      result = await look(page, response, null);
    } else {
      throw new Error(`unknown step ${step.do}`);
    }
    console.log(JSON.stringify(result));
    await context.close();
  }
} finally {
  await browser.close();
}
