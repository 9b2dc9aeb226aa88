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
//   {"do": "review", "url": u, "press": [{"choice": heading, "comment": text?, "shot": name?}, ...], "shot": name}
//       open the review page u once per press, every tab before pressing any (a page
//       left open while someone else decides); then on tab i press the button of the
//       choice whose heading is press[i].choice, after typing its comment; the
//       result is the review page's, with "presses": one result per press
//   {"do": "form", "url": u, "rounds": [{"fill": [field], "unrequire": bool?, "shot": name?, "axe": bool?}, ...]}
//       open u, then each round fills the page's fields and presses its button (the
//       next round works on the page that answered); a field is {"label": text,
//       "value": text} for a text, number, date or select field, or {"label": text,
//       "check": bool} for a checkbox or a radio button; "unrequire" removes the
//       page's own checks first (see "before" below). The result is the last
//       round's page, with "rounds": one result per round, each with "values"
//       (the form's fields on the page that answered, by name: text, or true/false
//       for a checkbox; a radio group's checked value) and "errors" (each error
//       shown, {text, field}: the name of the field it describes)
// Any step that ends on a page may add "axe": true: the page it ends on is then
// checked with axe-core's WCAG 2.0/2.1 A and AA rules in the light and the dark
// colour scheme, and measured at 320 and 640 CSS pixels wide (a phone, and a
// 1280-pixel window at 200% zoom), with screenshots "<shot>-dark" and
// "<shot>-320px" when the step names a shot; its result gains
//   "axe": {"light": [violation], "dark": [violation], "overflow": {"320": px, "640": px}}
// where a violation is {id, impact, help, targets} and overflow is how many
// pixels the page is wider than the window (0: no sideways scrolling).
// With "before": "unrequire", the approve step first removes the page's own
// checks of its form fields (required, maxlength), as an old browser would not
// make them, so the server's own check answers; with "before": "clear-cookies"
// it forgets the context's cookies before pressing (a session that ended while
// the page was open).
// Every step runs in a fresh browser context, closed after it, unless it names
// one with "context": steps naming the same context share it (its cookies), and
// it is closed at the end. A step that makes a context may add
// "accept_language": the header its every request then sends, as given
// (the context's default otherwise).
// It prints one JSON line per step: {status, title, heading, badge, lang, text,
// buttons: [{text, background}]}, with
// "url" (origin and path of the last page, no query) for sign-in-approve; for
// cookies, [{name, httpOnly, secure, sameSite, path}].
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const WCAG_AA = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

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
    // Read at once: a page without them (a creator's own html) has none.
    heading: await page.evaluate(() => document.querySelector('h1')?.textContent ?? null),
    badge: await page.evaluate(() => document.querySelector('.status')?.textContent ?? null),
    lang: await page.evaluate(() => document.documentElement.getAttribute('lang')),
    text: await page.locator('body').innerText(),
    // Each submit button's text and computed background, in the light
    // scheme (a failure action's must not look like a success's).
    buttons: await page.evaluate(() =>
      [...document.querySelectorAll('button[type=submit]')].map((b) => ({
        text: b.textContent,
        background: getComputedStyle(b).backgroundColor,
      })),
    ),
  };
}

// axe-core on the page as it is, in both colour schemes, then its width at
// 320 and 640 pixels. axe runs through the DevTools protocol, which the pages'
// Content-Security-Policy (no scripts) does not govern.
async function audit(page, shot) {
  const found = {};
  for (const colorScheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme });
    if (shot && colorScheme === 'dark') {
      await page.screenshot({ path: join(plan.screenshots, `${shot}-dark.png`), fullPage: true });
    }
    if (!(await page.evaluate(() => typeof window.axe === 'object'))) {
      await page.evaluate(axeSource);
    }
    const result = await page.evaluate(
      (tags) => window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] }),
      WCAG_AA,
    );
    found[colorScheme] = result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      targets: v.nodes.map((n) => n.target.join(' ')),
    }));
  }
  await page.emulateMedia({ colorScheme: 'light' });
  const viewport = page.viewportSize();
  found.overflow = {};
  for (const width of [320, 640]) {
    await page.setViewportSize({ width, height: 800 });
    found.overflow[width] = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    if (shot && width === 320) {
      await page.screenshot({ path: join(plan.screenshots, `${shot}-320px.png`), fullPage: true });
    }
  }
  await page.setViewportSize(viewport);
  return found;
}

// Removes the page's own checks of its form fields.
async function unrequire(page) {
  await page.evaluate(() => {
    for (const field of document.querySelectorAll('textarea, input, select')) {
      field.removeAttribute('required');
      field.removeAttribute('maxlength');
      field.removeAttribute('minlength');
      field.removeAttribute('pattern');
      field.removeAttribute('min');
      field.removeAttribute('max');
    }
    for (const form of document.querySelectorAll('form')) {
      form.noValidate = true;
    }
  });
}

// What a form on the page holds, and the errors it shows by their fields.
async function formState(page) {
  return page.evaluate(() => {
    const values = {};
    for (const field of document.querySelectorAll('form [name]')) {
      if (field.type === 'radio') {
        if (field.checked) values[field.name] = field.value;
        else if (!(field.name in values)) values[field.name] = null;
      } else if (field.type === 'checkbox') {
        values[field.name] = field.checked;
      } else {
        values[field.name] = field.value;
      }
    }
    const errors = [...document.querySelectorAll('.error')].map((e) => ({
      text: e.textContent,
      field: document.querySelector(`[aria-describedby~="${e.id}"]`)?.getAttribute('name')
        ?? document.querySelector(`[aria-describedby~="${e.id}"] [name]`)?.getAttribute('name')
        ?? null,
    }));
    return { values, errors };
  });
}

// Named contexts, shared by the steps that name them.
const contexts = new Map();
// A phone-sized window: the pages must work there.
const newContext = (step) => browser.newContext({
  viewport: { width: 390, height: 844 },
  ...(step.accept_language === undefined
    ? {}
    : { extraHTTPHeaders: { 'Accept-Language': step.accept_language } }),
});

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
      context = await newContext(step);
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
      if (step.before === 'unrequire') {
        await unrequire(page);
      } else if (step.before === 'clear-cookies') {
        await context.clearCookies();
      } else if (step.before !== undefined) {
        throw new Error(`unknown before ${step.before}`);
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
    } else if (step.do === 'review') {
      const tabs = [page];
      while (tabs.length < step.press.length) {
        tabs.push(await context.newPage());
      }
      const opened = [];
      for (const tab of tabs) {
        opened.push(await tab.goto(step.url));
      }
      result = await look(page, opened[0], step.shot);
      if (step.axe) {
        result.axe = await audit(page, step.shot);
      }
      result.choices = await page.locator('section.choice h2').allTextContents();
      result.presses = [];
      for (const [i, press] of step.press.entries()) {
        const tab = tabs[i];
        const section = tab.locator('section.choice').filter({
          has: tab.getByRole('heading', { name: press.choice, exact: true }),
        });
        if (press.comment !== undefined) {
          await section.getByLabel(/Comment/).fill(press.comment);
        }
        const [response] = await Promise.all([tab.waitForNavigation(), section.getByRole('button').click()]);
        result.presses.push(await look(tab, response, press.shot));
      }
    } else if (step.do === 'form') {
      let response = await page.goto(step.url);
      const rounds = [];
      for (const round of step.rounds) {
        if (round.unrequire) {
          await unrequire(page);
        }
        for (const field of round.fill) {
          const control = page.getByLabel(field.label, { exact: true });
          if (field.check !== undefined) {
            await control.setChecked(field.check);
          } else if (await control.evaluate((e) => e.tagName === 'SELECT')) {
            await control.selectOption(field.value);
          } else {
            await control.fill(field.value);
          }
        }
        const button = page.getByRole('button').filter({ hasNotText: /Sign (in|out)/i });
        [response] = await Promise.all([page.waitForNavigation(), button.click()]);
        const seen = { ...(await look(page, response, round.shot)), ...(await formState(page)) };
        if (round.axe) {
          seen.axe = await audit(page, round.shot);
        }
        rounds.push(seen);
      }
      result = { ...rounds[rounds.length - 1], rounds };
    } else if (step.do === 'sign-in-approve') {
      result = await signInApprove(page, step);
    } else {
      throw new Error(`unknown step ${step.do}`);
    }
    if (step.axe && !result.axe) {
      result.axe = await audit(page, step.shot);
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
