// A real OpenID Connect provider for the tests: panva's OpenID-certified `oidc-provider`
// (pinned in package.json), on a loopback port, with one confidential client, the
// accounts it is given, and its own development login and consent pages.
//
// Usage: node provider.mjs [CONFIG.json]   (or the same JSON in $OIDC_FIXTURE_CONFIG)
//
// Prints ONE JSON line on stdout once it accepts connections:
//   {"issuer":"http://127.0.0.1:PORT","client_id":…,"client_secret":…,"resource":…,
//    "audience":…,"kids":{"RS256":…,"ES256":…}}
// and nothing else on stdout (oidc-provider's notices go to stderr). Runs until its
// standard input closes, so it never outlives the test that started it.
//
// CONFIG (every key is optional):
//   port                      0: a free port
//   client_id                 "chatpass"
//   client_secret             random
//   token_endpoint_auth_method  "client_secret_basic" (or "client_secret_post")
//   redirect_uris             ["http://127.0.0.1:3000/auth/oidc/callback"]
//   post_logout_redirect_uris []
//   accounts                  [{sub, email, email_verified, name}]: email_verified is passed
//                             through as given (true, false, missing, "true")
//   resource                  "urn:chatpass:api": the resource indicator JWT access tokens
//                             are issued for (the default one: a client need not ask)
//   audience                  the client id: the access tokens' `aud`
//   resource_scope            "openid email profile": the scopes an access token may carry
//   access_token_claims       []: account claims copied into access tokens, e.g. ["email",
//                             "email_verified"] (an app's token that names its user)
//   access_token_ttl          3600 (seconds)
//   id_token_ttl              3600 (seconds)
//   es256                     false: also an ES256 signing key (after the RS256 one)
//   id_token_signing_alg      "RS256" (the client's id_token_signed_response_alg)
//   access_token_signing_alg  "RS256"
//   keys_file                 none: a path where the signing keys are kept (private JWKs):
//                             read when it exists, written otherwise, so a provider started
//                             again with it signs with the same keys (a restart, not a rotation)
//
// Login: the dev login page takes an account's `sub` or its email (translated to the `sub`
// before oidc-provider sees it) and any password; a login that names no account is
// sent back to the login page.
//
// NOT PART OF OPENID CONNECT: test-only routes under /test/, for the tests of a relying
// party's verification code:
//   POST /test/sign {claims, header?, how, alg?, secret_form?} -> {"jwt": "…"}
//        how = "provider"     signed by the provider's own key (alg: "RS256" or "ES256")
//              "other-key"    signed by a fresh RSA key that is in no JWKS; its `kid` is
//                             the provider's RS256 one unless header.kid says otherwise
//              "none"         alg "none", empty signature
//              "hs256-public" HS256 keyed with the bytes of the provider's public RS256 key
//                             (secret_form "pem": its SPKI PEM text, the default; or
//                             "der": the same key's DER bytes)
//              "hs256-secret" HS256 keyed with the client secret (what OIDC allows for a
//                             confidential client, and chatpass must refuse)
//        `header` is merged over the default {alg, kid, typ: "JWT"} (a null removes a
//        member); the signature is made with the chosen key whatever header.alg says.
//   GET  /test/stats        -> {"jwks_fetches": n, "discovery_fetches": n}
//   POST /test/stop-jwks    /jwks answers 503 (the provider "down") until
//   POST /test/start-jwks
//   POST /test/stop-discovery, /test/start-discovery: the same for the discovery document
//   POST /test/tamper-next-id-token {claims?, header?, how?, alg?}: the next token
//        response's ID token (the real one, for the code the client redeems) is replaced
//        by its payload with `claims` merged over it (a null removes a member), signed as
//        /test/sign's `how` says (default "provider"). One use; -> {"armed": true}

import {
  createHash, createHmac, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign,
} from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';

// oidc-provider prints its notices with console.info (stdout): stdout carries the one
// ready line only.
console.info = console.error;
console.log = console.error;

const { default: Provider, errors } = await import('oidc-provider');

const config = readConfig();
const clientId = config.client_id ?? 'chatpass';
const clientSecret = config.client_secret ?? randomBytes(24).toString('base64url');
const resource = config.resource ?? 'urn:chatpass:api';
const audience = config.audience ?? clientId;
const accounts = (config.accounts ?? []).map((a) => ({ ...a, sub: String(a.sub) }));

function readConfig() {
  const text = process.argv[2] ? readFileSync(process.argv[2], 'utf8') : process.env.OIDC_FIXTURE_CONFIG;
  const parsed = text ? JSON.parse(text) : {};
  if (!Array.isArray(parsed.redirect_uris) || parsed.redirect_uris.length === 0) {
    parsed.redirect_uris = ['http://127.0.0.1:3000/auth/oidc/callback'];
  }
  return parsed;
}

// Signing keys, made at start: a private JWK for oidc-provider and a KeyObject for /test/sign.
function signingKey(alg, savedJwk) {
  const pair = savedJwk
    ? (() => {
      const privateKey = createPrivateKey({ key: savedJwk, format: 'jwk' });
      return { privateKey, publicKey: createPublicKey(privateKey) };
    })()
    : alg === 'ES256'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : generateKeyPairSync('rsa', { modulusLength: 2048 });
  const publicJwk = pair.publicKey.export({ format: 'jwk' });
  const kid = `${alg.toLowerCase()}-${thumbprint(publicJwk).slice(0, 16)}`;
  return {
    alg,
    kid,
    privateKey: pair.privateKey,
    publicKey: pair.publicKey,
    privateJwk: { ...pair.privateKey.export({ format: 'jwk' }), kid, alg, use: 'sig' },
  };
}

// RFC 7638 thumbprint (the required members in lexicographic order).
function thumbprint(jwk) {
  const members = jwk.kty === 'EC'
    ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }
    : { e: jwk.e, kty: jwk.kty, n: jwk.n };
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}

const savedKeys = config.keys_file && existsSync(config.keys_file)
  ? JSON.parse(readFileSync(config.keys_file, 'utf8'))
  : {};
const keys = { RS256: signingKey('RS256', savedKeys.RS256) };
if (config.es256) keys.ES256 = signingKey('ES256', savedKeys.ES256);
if (config.keys_file) {
  const jwks = Object.fromEntries(Object.entries(keys).map(([alg, k]) => [alg, k.privateKey.export({ format: 'jwk' })]));
  writeFileSync(config.keys_file, JSON.stringify(jwks));
}
let otherKey; // made on first use: most runs never need it

function findAccount(login) {
  const wanted = String(login ?? '').trim();
  return accounts.find((a) => a.sub === wanted)
    ?? accounts.find((a) => typeof a.email === 'string' && a.email.toLowerCase() === wanted.toLowerCase());
}

// The claims an account has, as configured: a missing key stays missing.
function accountClaims(account) {
  const claims = { sub: account.sub };
  for (const name of ['email', 'email_verified', 'name']) {
    if (Object.hasOwn(account, name)) claims[name] = account[name];
  }
  return claims;
}

const resourceServer = {
  scope: config.resource_scope ?? 'openid email profile',
  audience,
  accessTokenTTL: config.access_token_ttl ?? 3600,
  accessTokenFormat: 'jwt',
  jwt: { sign: { alg: config.access_token_signing_alg ?? 'RS256' } },
};

const oidcConfiguration = {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: config.redirect_uris,
    post_logout_redirect_uris: config.post_logout_redirect_uris ?? [],
    response_types: ['code'],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: config.token_endpoint_auth_method ?? 'client_secret_basic',
    id_token_signed_response_alg: config.id_token_signing_alg ?? 'RS256',
  }],
  jwks: { keys: Object.values(keys).map((k) => k.privateJwk) },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  responseTypes: ['code'],
  scopes: ['openid', 'email', 'profile'],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
  },
  // The ID token carries the scopes' claims even though userinfo is on (OIDC Core puts
  // them in userinfo only); relying parties read email and email_verified from it.
  conformIdTokenClaims: false,
  async findAccount(ctx, id) {
    const account = accounts.find((a) => a.sub === id);
    if (!account) return undefined;
    return { accountId: account.sub, claims: async () => accountClaims(account) };
  },
  async extraTokenClaims(ctx, token) {
    const account = accounts.find((a) => a.sub === token.accountId);
    if (!account) return undefined;
    const claims = accountClaims(account);
    const picked = {};
    for (const name of config.access_token_claims ?? []) {
      if (Object.hasOwn(claims, name)) picked[name] = claims[name];
    }
    return picked;
  },
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: true },
    rpInitiatedLogout: { enabled: true },
    resourceIndicators: {
      enabled: true,
      // Every authorization is for the one API, asked for or not, and its access token
      // comes from the token endpoint without a `resource` parameter.
      defaultResource: async () => resource,
      useGrantedResource: async () => true,
      getResourceServerInfo: async (ctx, indicator) => {
        if (indicator !== resource) throw new errors.InvalidTarget();
        return resourceServer;
      },
    },
  },
  // Every lifetime set, so that oidc-provider prints no notice about its defaults.
  ttl: {
    AccessToken: resourceServer.accessTokenTTL,
    AuthorizationCode: 60,
    Grant: 3600,
    IdToken: config.id_token_ttl ?? 3600,
    Interaction: 600,
    Session: 3600,
  },
  renderError(ctx, out) {
    ctx.type = 'json';
    ctx.body = out;
  },
};

// The issuer names the port, so the socket is bound before the provider exists.
let handle = (req, res) => { res.statusCode = 503; res.end(); };
const server = createServer((req, res) => handle(req, res));
await new Promise((resolve) => server.listen(config.port ?? 0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, oidcConfiguration);

const stats = { jwks_fetches: 0, discovery_fetches: 0 };
const down = { jwks: false, discovery: false };
let tamper = null; // what /test/tamper-next-id-token armed

async function readBody(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 1 << 20) throw new Error('body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

provider.use(async (ctx, next) => {
  if (ctx.path.startsWith('/test/')) {
    await testRoute(ctx);
    return;
  }
  if (ctx.path === '/jwks') {
    stats.jwks_fetches += 1;
    if (down.jwks) { ctx.status = 503; return; }
  }
  if (ctx.path === '/token' && tamper) {
    await next();
    if (ctx.body && typeof ctx.body === 'object' && typeof ctx.body.id_token === 'string') {
      const { claims = {}, header = {}, how = 'provider', alg = 'RS256' } = tamper;
      tamper = null;
      const payload = JSON.parse(Buffer.from(ctx.body.id_token.split('.')[1], 'base64url').toString('utf8'));
      const merged = Object.fromEntries(
        Object.entries({ ...payload, ...claims }).filter(([, v]) => v !== null),
      );
      ctx.body = { ...ctx.body, id_token: signTest({ claims: merged, header, how, alg }) };
    }
    return;
  }
  if (ctx.path === '/.well-known/openid-configuration') {
    stats.discovery_fetches += 1;
    if (down.discovery) { ctx.status = 503; return; }
  }
  if (ctx.method === 'POST' && /^\/interaction\/[^/]+$/.test(ctx.path) && ctx.is('application/x-www-form-urlencoded')) {
    // The dev login takes the typed login as the account id: an email becomes its sub
    // here (oidc-provider then reads the rewritten body); an unknown login is sent back
    // to the login page, as a wrong password would be.
    const form = new URLSearchParams(await readBody(ctx.req));
    if (form.get('prompt') === 'login') {
      const account = findAccount(form.get('login'));
      if (!account) {
        ctx.redirect(ctx.path);
        ctx.status = 303;
        return;
      }
      form.set('login', account.sub);
    }
    ctx.req.body = form.toString();
  }
  await next();
});

async function testRoute(ctx) {
  const route = `${ctx.method} ${ctx.path}`;
  const toggles = {
    'POST /test/stop-jwks': ['jwks', true],
    'POST /test/start-jwks': ['jwks', false],
    'POST /test/stop-discovery': ['discovery', true],
    'POST /test/start-discovery': ['discovery', false],
  };
  if (toggles[route]) {
    const [name, value] = toggles[route];
    down[name] = value;
    ctx.body = { ...down };
  } else if (route === 'POST /test/tamper-next-id-token') {
    tamper = JSON.parse((await readBody(ctx.req)) || '{}');
    ctx.body = { armed: true };
  } else if (route === 'GET /test/stats') {
    ctx.body = { ...stats };
  } else if (route === 'POST /test/sign') {
    try {
      ctx.body = { jwt: signTest(JSON.parse(await readBody(ctx.req))) };
    } catch (error) {
      ctx.status = 400;
      ctx.body = { error: String(error.message ?? error) };
    }
  } else {
    ctx.status = 404;
    ctx.body = { error: `no test route ${route}` };
  }
}

const b64 = (value) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

function signTest({ claims, header = {}, how, alg = 'RS256', secret_form: secretForm = 'pem' }) {
  if (claims === undefined) throw new Error('claims are required');
  const rs = keys.RS256;
  let key;
  let signer;
  let defaults;
  switch (how) {
    case 'provider':
      key = keys[alg];
      if (!key) throw new Error(`no provider key for ${alg} (es256: true adds ES256)`);
      defaults = { alg: key.alg, kid: key.kid };
      signer = (data) => (key.alg === 'ES256'
        ? sign('sha256', data, { key: key.privateKey, dsaEncoding: 'ieee-p1363' })
        : sign('sha256', data, key.privateKey));
      break;
    case 'other-key':
      otherKey ??= generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
      defaults = { alg: 'RS256', kid: rs.kid };
      signer = (data) => sign('sha256', data, otherKey);
      break;
    case 'none':
      defaults = { alg: 'none', kid: rs.kid };
      signer = () => Buffer.alloc(0);
      break;
    case 'hs256-public': {
      const secrets = {
        pem: () => rs.publicKey.export({ type: 'spki', format: 'pem' }),
        der: () => rs.publicKey.export({ type: 'spki', format: 'der' }),
      };
      if (!secrets[secretForm]) throw new Error(`secret_form must be one of ${Object.keys(secrets)}`);
      const secret = secrets[secretForm]();
      defaults = { alg: 'HS256', kid: rs.kid };
      signer = (data) => createHmac('sha256', secret).update(data).digest();
      break;
    }
    case 'hs256-secret':
      defaults = { alg: 'HS256', kid: rs.kid };
      signer = (data) => createHmac('sha256', clientSecret).update(data).digest();
      break;
    default:
      throw new Error('how must be provider, other-key, none, hs256-public or hs256-secret');
  }
  // A null in `header` removes that member (a token without a `kid`).
  const merged = Object.fromEntries(
    Object.entries({ ...defaults, typ: 'JWT', ...header }).filter(([, v]) => v !== null),
  );
  const input = `${b64(merged)}.${b64(claims)}`;
  return `${input}.${signer(Buffer.from(input)).toString('base64url')}`;
}

handle = provider.callback();

process.stdout.write(`${JSON.stringify({
  issuer,
  client_id: clientId,
  client_secret: clientSecret,
  resource,
  audience,
  kids: Object.fromEntries(Object.entries(keys).map(([alg, k]) => [alg, k.kid])),
})}\n`);

// Stop when the test closes our stdin (or dies).
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
