// The sign-in and consent page in a real browser (Chromium via playwright-core), against a
// plain-HTTP sandbox (so the browser needs no CA setup; verification is never disabled).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { pkcePair } from '../../src/sandbox/index.ts';
import { form, REDIRECT, startTestSandbox } from './helpers.ts';

type Sb = Awaited<ReturnType<typeof startTestSandbox>>;
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

describe('sign-in page in a browser', { skip: existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM}` }, () => {
  let sb: Sb;
  let browser: Browser;
  before(async () => {
    sb = await startTestSandbox({ https: false });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  });
  after(async () => {
    await browser?.close();
    await sb?.close();
  });

  for (const provider of ['microsoft', 'google', 'webex'] as const) {
    it(`${provider}: picking an account and accepting redirects to the app with code and state`, async () => {
      const p = sb[provider];
      const app = p.apps[0]!;
      const { verifier, challenge } = pkcePair();
      const authorize = new URL(provider === 'microsoft' ? sb.microsoft.authorizationEndpointFor('common') : p.authorizationEndpoint);
      authorize.search = form({ client_id: app.clientId, response_type: 'code', redirect_uri: REDIRECT, scope: provider === 'webex' ? 'spark:all openid' : provider === 'microsoft' ? 'openid email User.Read' : 'openid email', state: `st-${provider}`, code_challenge: challenge, code_challenge_method: 'S256' }).toString();
      const page = await browser.newPage();
      let landed: URL | undefined;
      // The app's callback is not running here; capture the navigation instead.
      await page.route(`${REDIRECT}**`, async (route) => {
        landed = new URL(route.request().url());
        await route.fulfill({ status: 200, contentType: 'text/plain', body: 'callback' });
      });
      await page.goto(authorize.toString());
      const account = p.accounts[1]!;
      await page.getByLabel(new RegExp(account.email.replace(/[.+]/g, '\\$&'))).check();
      await page.getByRole('button', { name: 'Accept' }).click();
      await page.waitForURL(`${REDIRECT}**`);
      assert.ok(landed);
      assert.equal(landed.searchParams.get('state'), `st-${provider}`);
      await page.close();
      // The account picked in the browser is the one the code stands for.
      const tokenUrl = provider === 'microsoft' ? sb.microsoft.tokenEndpointFor('common') : p.tokenEndpoint;
      const res = await fetch(tokenUrl, { method: 'POST', body: form({ grant_type: 'authorization_code', code: landed.searchParams.get('code')!, redirect_uri: REDIRECT, client_id: app.clientId, client_secret: app.clientSecret, code_verifier: verifier }) });
      assert.equal(res.status, 200);
      const tokens = (await res.json()) as { access_token: string };
      const me = provider === 'microsoft' ? `${p.apiBaseUrl}/me` : provider === 'google' ? p.userinfoEndpoint! : `${p.apiBaseUrl}/people/me`;
      const who = (await (await fetch(me, { headers: { authorization: `Bearer ${tokens.access_token}` } })).json()) as { userPrincipalName?: string; email?: string; emails?: string[] };
      assert.equal(who.userPrincipalName ?? who.email ?? who.emails?.[0], account.email);
    });
  }
});
