// An OpenID Provider for the integration tests, built on the oidc-provider
// package with its development login and consent pages.
//
//   CLIENT_ID=... CLIENT_SECRET=... REDIRECT_URIS=u1,u2 [PORT=0] node provider.mjs
//
// It listens on 127.0.0.1 (PORT 0, the default, takes a free port) and, once
// listening, prints one line to stdout: {"issuer":"http://127.0.0.1:<port>"}.
// Everything else it says goes to stderr.
//
// The sign-in (oidc-provider's devInteractions): GET /auth?... redirects to
// /interaction/<uid>, a form posting to the same URL with `prompt=login`,
// `login` (the email) and `password` (anything); then /interaction/<uid>
// again, the consent form (`prompt=consent`, a "Continue" button); then the
// browser is sent to the client's redirect_uri with ?code=...&state=...&iss=...
//
// Accounts are found by email: the ones below, and any other login is taken
// as an account with that email (as typed), verified, with no groups. sub is
// the part of the email before the @. oidc-provider makes sub the account id,
// and devInteractions makes the account id the typed login, so a middleware
// takes the login form's POST and finishes the login with the local part; the
// email last signed in under a local part is that sub's email.
//
// Control endpoints for tests (JSON answers), not counted in /test/stats:
//   POST /test/rotate    a new signing key (kid k2, then k3, ...) signs from now
//                        on; the JWKS lists it first and keeps the older ones
//   POST /test/down      every other request gets 503 until POST /test/up
//   POST /test/up
//   GET  /test/stats     requests since start by path, 503'd ones included:
//                        {"/jwks": 3, "/token": 1, ...}
//   POST /test/stats/reset
//   POST /test/id-token  {email, aud?, iss?, sub?, exp_offset_secs?, alg?, kid?,
//                        email_verified?, groups?, name?, nonce?} ->
//                        {"id_token": jwt}; see mintIdToken below
import { createServer } from 'node:http';
import * as querystring from 'node:querystring';

// oidc-provider prints its notices with console.info; stdout carries only the
// issuer line. (Importing it warns on stderr when Node is older than 22 LTS.)
console.info = console.error;
console.log = console.error;

const { default: Provider } = await import('oidc-provider');
// The in-memory adapter oidc-provider uses by default is made per Provider
// instance, so a rotation would forget every session, grant and code. One
// store, shared by every instance, keeps them across /test/rotate.
const { createMemoryAdapter } = await import('oidc-provider/lib/adapters/memory_adapter.js');
const jose = await import('jose');

const env = (name) => {
  const value = process.env[name];
  if (!value) {
    console.error(`provider.mjs: ${name} is not set`);
    process.exit(2);
  }
  return value;
};
const CLIENT_ID = env('CLIENT_ID');
const CLIENT_SECRET = env('CLIENT_SECRET');
const REDIRECT_URIS = env('REDIRECT_URIS').split(',').map((u) => u.trim()).filter(Boolean);
const PORT = Number(process.env.PORT || 0);

const ACCOUNTS = {
  'alice@example.com': { email_verified: true, name: 'Alice Approver', groups: ['leads'] },
  'bob@example.com': { email_verified: true, groups: [] },
  'carol@example.com': { email_verified: true, groups: ['release-managers'] },
  'dana@leads.example.com': { email_verified: true, groups: [] },
  'erin@example.com': { email_verified: false, groups: [] },
};

// sub -> email of the last sign-in with that local part (the known accounts
// to begin with).
const emailOf = new Map(Object.keys(ACCOUNTS).map((email) => [email.split('@')[0], email]));

function accountClaims(email) {
  const known = ACCOUNTS[email] ?? { email_verified: true, groups: [] };
  const claims = {
    sub: email.split('@')[0],
    email,
    email_verified: known.email_verified,
    groups: known.groups,
  };
  if (known.name !== undefined) claims.name = known.name;
  return claims;
}

async function newSigningKey(kid) {
  const { privateKey } = await jose.generateKeyPair('ES256', { extractable: true });
  return { ...(await jose.exportJWK(privateKey)), kid, alg: 'ES256', use: 'sig' };
}

// Newest first: oidc-provider signs with the first key that fits.
let keys = [await newSigningKey('k1')];
const adapter = createMemoryAdapter();
let issuer;
let handler;

function buildProvider() {
  const built = new Provider(issuer, {
    adapter,
    clients: [{
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['authorization_code'],
      response_types: ['code'],
      redirect_uris: REDIRECT_URIS,
      id_token_signed_response_alg: 'ES256',
    }],
    responseTypes: ['code'],
    pkce: { required: () => true },
    conformIdTokenClaims: false,
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name'],
      groups: ['groups'],
    },
    scopes: ['openid', 'email', 'profile', 'groups'],
    features: { devInteractions: { enabled: true } },
    findAccount: async (ctx, sub) => {
      const email = emailOf.get(sub);
      return email === undefined ? undefined : { accountId: sub, claims: async () => accountClaims(email) };
    },
    jwks: { keys },
    cookies: { keys: ['sfn-callbacks test provider cookie key, not a secret'] },
    ttl: {
      AccessToken: 300,
      AuthorizationCode: 60,
      IdToken: 300,
      Interaction: 600,
      Session: 3600,
      Grant: 3600,
    },
    clientBasedCORS: () => false,
    renderError: async (ctx, out) => {
      ctx.type = 'html';
      const esc = (v) => String(v ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
      ctx.body = `<!DOCTYPE html><title>oidc error</title><h1>${esc(out.error)}</h1><p>${esc(out.error_description)}</p>`;
    },
  });
  // The login form's POST: finish the login as the email's local part.
  // Other interaction POSTs (consent) go on to devInteractions with the form
  // already read (it then warns once on stderr that the body was parsed).
  built.use(async (ctx, next) => {
    if (ctx.method === 'POST' && /^\/interaction\/[^/]+$/.test(ctx.path)
      && ctx.is('application/x-www-form-urlencoded')) {
      const chunks = [];
      for await (const chunk of ctx.req) chunks.push(chunk);
      const form = querystring.parse(Buffer.concat(chunks).toString('utf8'));
      if (form.prompt === 'login' && typeof form.login === 'string' && form.login) {
        const sub = form.login.split('@')[0];
        emailOf.set(sub, form.login);
        ctx.respond = false;
        await built.interactionFinished(ctx.req, ctx.res, {
          login: { accountId: sub },
        }, { mergeWithLastSubmission: false });
        return;
      }
      ctx.req.body = form;
    }
    await next();
  });
  built.on('server_error', (ctx, err) => console.error('provider server_error', err));
  handler = built.callback();
}

let down = false;
let stats = {};

function json(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

async function readJson(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : {};
}

// An ID token made to order. Defaults: aud CLIENT_ID, iss the issuer, sub the
// email's local part, iat now, exp now+300 (exp_offset_secs instead: negative
// is expired), email_verified true, name and groups the account's (none and
// [] for unknown emails). alg: "ES256" (default; kid: the current key, or any
// kid the JWKS lists, or "unknown" for a fresh key the JWKS does not have),
// "none" (unsigned: header {"alg":"none"}, empty signature), "HS256" (signed
// with CLIENT_SECRET, header kid only if given).
async function mintIdToken(body) {
  if (typeof body.email !== 'string') throw new Error('email is required');
  const now = Math.floor(Date.now() / 1000);
  const account = accountClaims(body.email);
  const claims = {
    iss: body.iss ?? issuer,
    sub: body.sub ?? account.sub,
    aud: body.aud ?? CLIENT_ID,
    iat: now,
    exp: now + (body.exp_offset_secs ?? 300),
    email: body.email,
    email_verified: body.email_verified ?? true,
    groups: body.groups ?? account.groups,
  };
  const name = body.name ?? account.name;
  if (name !== undefined) claims.name = name;
  if (body.nonce !== undefined) claims.nonce = body.nonce;

  const alg = body.alg ?? 'ES256';
  if (alg === 'none') {
    const part = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
    return `${part({ alg: 'none' })}.${part(claims)}.`;
  }
  if (alg === 'HS256') {
    const header = { alg };
    if (body.kid !== undefined) header.kid = body.kid;
    return new jose.SignJWT(claims).setProtectedHeader(header).sign(new TextEncoder().encode(CLIENT_SECRET));
  }
  if (alg !== 'ES256') throw new Error(`alg ${alg} is not supported (ES256, none, HS256)`);
  let jwk;
  if (body.kid === 'unknown') {
    jwk = await newSigningKey('unknown');
  } else if (body.kid === undefined) {
    [jwk] = keys;
  } else {
    jwk = keys.find((k) => k.kid === body.kid);
    if (!jwk) throw new Error(`no key with kid ${body.kid} (have ${keys.map((k) => k.kid).join(', ')}, or "unknown")`);
  }
  const key = await jose.importJWK(jwk, 'ES256');
  return new jose.SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: jwk.kid, typ: 'JWT' }).sign(key);
}

async function control(req, res, path) {
  const route = `${req.method} ${path}`;
  switch (route) {
    case 'POST /test/rotate': {
      keys = [await newSigningKey(`k${keys.length + 1}`), ...keys];
      buildProvider();
      return json(res, 200, { kids: keys.map((k) => k.kid) });
    }
    case 'POST /test/down':
      down = true;
      return json(res, 200, { down });
    case 'POST /test/up':
      down = false;
      return json(res, 200, { down });
    case 'GET /test/stats':
      return json(res, 200, stats);
    case 'POST /test/stats/reset':
      stats = {};
      return json(res, 200, stats);
    case 'POST /test/id-token': {
      let body;
      try {
        body = await readJson(req);
      } catch (err) {
        return json(res, 400, { error: `body is not JSON: ${err.message}` });
      }
      try {
        return json(res, 200, { id_token: await mintIdToken(body) });
      } catch (err) {
        return json(res, 400, { error: err.message });
      }
    }
    default:
      return json(res, 404, { error: `no control endpoint ${route}` });
  }
}

const server = createServer((req, res) => {
  const path = new URL(req.url, 'http://x').pathname;
  if (path.startsWith('/test/')) {
    control(req, res, path).catch((err) => {
      console.error('control endpoint failed', err);
      if (!res.headersSent) json(res, 500, { error: err.message });
    });
    return;
  }
  stats[path] = (stats[path] ?? 0) + 1;
  console.error(`${req.method} ${path}${down ? ' (down: 503)' : ''}`);
  if (down) {
    json(res, 503, { error: 'temporarily_unavailable' });
    return;
  }
  handler(req, res);
});

server.listen(PORT, '127.0.0.1', () => {
  issuer = `http://127.0.0.1:${server.address().port}`;
  buildProvider();
  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
