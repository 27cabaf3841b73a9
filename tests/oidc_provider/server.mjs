// A real OpenID Connect provider for cocreate's sign-in tests (npm oidc-provider 9, devInteractions).
// Never for production: every login is accepted with any password.
//
//   node server.mjs CONFIG.json
//
// CONFIG.json: {"providers": [{"port": 4001, "conformIdTokenClaims": true,
//                               "clients": [{"client_id": "...", "client_secret": "...", "redirect_uris": ["..."]}]}]}
// Each provider listens on http://127.0.0.1:PORT (its issuer), with its own RSA signing key, and
// requires PKCE from every client. With conformIdTokenClaims (the library's default) the e-mail and
// profile claims are only in the UserInfo response; without it they are in the ID token too.
//
// Accounts: the login typed into the form is the account id (``sub``). Its claims come from
// ACCOUNTS below, or else: e-mail <login>@example.jp, verified unless the login starts with
// "unverified", none at all for logins starting with "noemail"; nickname = the login.

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

import Provider from 'oidc-provider';

const ACCOUNTS = {
  hanako: { email: 'hanako@example.jp', email_verified: true, nickname: 'はなこ', name: '板橋 花子' },
  longname: { email: 'longname@example.jp', email_verified: true, nickname: 'あ'.repeat(80) },
  hostile: { email: 'hostile@example.jp', email_verified: true, nickname: '<script>alert(1)</script>' },
};

function claimsOf(login) {
  if (ACCOUNTS[login]) return { sub: login, ...ACCOUNTS[login] };
  if (login.startsWith('noemail')) return { sub: login, nickname: login };
  return {
    sub: login,
    email: `${login.toLowerCase()}@example.jp`,
    email_verified: !login.startsWith('unverified'),
    nickname: login,
  };
}

function signingKey() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: randomBytes(8).toString('hex'), use: 'sig', alg: 'RS256' };
}

function start({ port, clients, conformIdTokenClaims = true }) {
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: clients.map((client) => ({
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      ...client,
    })),
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'nickname'],
    },
    conformIdTokenClaims,
    cookies: { keys: [randomBytes(32).toString('hex')] },
    features: { devInteractions: { enabled: true } },
    jwks: { keys: [signingKey()] },
    pkce: { required: () => true },
    async findAccount(ctx, sub) {
      return { accountId: sub, async claims() { return claimsOf(sub); } };
    },
  });
  provider.listen(port, '127.0.0.1', () => {
    process.stdout.write(`oidc-provider listening on ${issuer}\n`);
  });
}

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
for (const providerConfig of config.providers) start(providerConfig);
