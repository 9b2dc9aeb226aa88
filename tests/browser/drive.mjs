// Drives Debian's Chromium through an approver's pages for tests/it/browser.rs.
//
//   node drive.mjs <steps.json>
//
// steps.json: {"screenshots": dir, "steps": [{"do": ..., ...}, ...]}, where a
// step is one of
//   {"do": "visit",   "url": u, "shot": name}                      open, look
//   {"do": "approve", "url": u, "comment": text?, "shot": name}    open, type, press the button
//   {"do": "scan",    "url": u}                                    open, let scripts run, click nothing
//   {"do": "sign-in-approve", "url": u, "login": email, "press": bool, "comment": text?, "shot": name?}
//       open u (click its "Sign in" button or link if it shows one; a one-click
//       link redirects to the provider by itself), sign in on the provider's
//       development login page (provider.mjs) as `login`, press Continue on its
//       consent page, wait to be back on u's origin; with "press", press the
//       page's button (as "approve" does) and wait for the next page
//   {"do": "cookies", "context": name}                             the context's cookies, no values
// Every step runs in a fresh browser context, closed after it, unless it names
// one with "context": steps naming the same context share it (its cookies), and
// it is closed at the end.
// It prints one JSON line per step: {status, title, heading, badge, text}, with
// "url" (origin and path of the last page, no query) for sign-in-approve; for
// cookies, [{name, httpOnly, secure, sameSite, path}].
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

// Named contexts, shared by the steps that name them.
const contexts = new Map();
// A phone-sized window: the pages must work there.
const newContext = () => browser.newContext({ viewport: { width: 390, height: 844 } });

// The "Sign in" control of one of our pages, if it shows one.
function signInControl(page) {
  return page.getByRole('button', { name: /Sign in/ }).or(page.getByRole('link', { name: /Sign in/ })).first();
}

// Open step.url, sign in at the provider, come back; then maybe press the button.
// Where a page is, without its query (our links carry their token there).
function place(href) {
  const url = new URL(href);
  return `${url.origin}${url.pathname}`;
}

async function signInApprove(page, step) {
  const home = new URL(step.url).origin;
  const deadline = Date.now() + 30_000;
  let response = await page.goto(step.url);
  let clickedSignIn = false;
  let leftHome = false;
  // Each turn looks at the page the browser is on and does what it asks.
  for (;;) {
    if (Date.now() > deadline) {
      throw new Error(`sign-in-approve: stuck at ${place(page.url())}`);
    }
    const here = new URL(page.url());
    if (here.origin === home) {
      if (leftHome || clickedSignIn) {
        break;
      }
      const control = signInControl(page);
      if (await control.count() === 0) {
        // Already signed in (a shared context), or a page that asks for no sign-in.
        break;
      }
      clickedSignIn = true;
      [response] = await Promise.all([page.waitForNavigation(), control.click()]);
      continue;
    }
    leftHome = true;
    const login = page.locator('form input[name="login"]');
    const consent = page.locator('form:has(input[name="prompt"][value="consent"]) [type="submit"]');
    if (await login.count() > 0) {
      if (step.shot) {
        await page.screenshot({ path: join(plan.screenshots, `${step.shot}-provider-login.png`), fullPage: true });
      }
      await login.fill(step.login);
      await page.locator('form input[name="password"]').fill('any password');
      [response] = await Promise.all([
        page.waitForNavigation(),
        page.locator('form:has(input[name="login"]) [type="submit"]').click(),
      ]);
    } else if (await consent.count() > 0) {
      [response] = await Promise.all([page.waitForNavigation(), consent.first().click()]);
    } else {
      // Not a page of the provider's that we know (an error page, a 503): give
      // it a few seconds to move on by itself, then stop with what it says.
      const at = page.url();
      await page.waitForURL((url) => url.href !== at, { timeout: 5_000 }).catch(async () => {
        const status = response ? response.status() : null;
        const text = (await page.locator('body').innerText().catch(() => '')).slice(0, 300);
        throw new Error(`sign-in-approve: stuck at ${place(at)} (status ${status}): ${text}`);
      });
      response = null;
    }
  }
  if (step.press) {
    if (step.shot) {
      await page.screenshot({ path: join(plan.screenshots, `${step.shot}-confirm.png`), fullPage: true });
    }
    if (step.comment !== undefined) {
      await page.getByLabel(/Comment/).fill(step.comment);
    }
    // The page's one button, leaving out signing in or out.
    const button = page.getByRole('button').filter({ hasNotText: /Sign (in|out)|Log (in|out)/i });
    [response] = await Promise.all([page.waitForNavigation(), button.click()]);
  }
  return { ...(await look(page, response, step.shot)), url: place(page.url()) };
}

try {
  for (const step of plan.steps) {
    let context = step.context === undefined ? null : contexts.get(step.context);
    if (step.do === 'cookies') {
      if (!context) {
        throw new Error(`cookies: no context named ${JSON.stringify(step.context)} yet`);
      }
      const cookies = await context.cookies();
      console.log(JSON.stringify(cookies.map(({ name, httpOnly, secure, sameSite, path }) => ({
        name, httpOnly, secure, sameSite, path,
      }))));
      continue;
    }
    if (!context) {
      context = await newContext();
      if (step.context !== undefined) {
        contexts.set(step.context, context);
      }
    }
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
    } else if (step.do === 'sign-in-approve') {
      result = await signInApprove(page, step);
    } else {
      throw new Error(`unknown step ${step.do}`);
    }
    console.log(JSON.stringify(result));
    if (step.context === undefined) {
      await context.close();
    } else {
      await page.close();
    }
  }
} finally {
  await browser.close();
}
