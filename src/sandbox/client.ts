// Client-side helpers for driving the sandbox from tests: submit the sign-in form the way a
// browser would, and build PKCE pairs. Tether's own end-to-end tests use these too.
import { createHash, randomBytes } from 'node:crypto';
import type { FetchLike } from './common/fetch.ts';

export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

function decodeEntities(s: string): string {
  return s.replace(/&(amp|lt|gt|quot|#39);/g, (_, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[e]!);
}

/**
 * Opens `authorizeUrl`, submits the sign-in form as `login` (an email shown on the page) with the
 * given decision, and returns the final redirect target (the app's redirect URI with code/state or
 * error). Throws if the provider answers with anything but the sign-in page (e.g. an error page).
 */
export async function completeSignIn(fetch: FetchLike, authorizeUrl: string, opts: { login: string; decision?: 'accept' | 'cancel' }): Promise<URL> {
  const page = await fetch(authorizeUrl, { redirect: 'manual' });
  const text = await page.text();
  if (page.status !== 200) throw new Error(`authorization endpoint answered ${page.status}: ${text.slice(0, 500)}`);
  const form = /<form method="post" action="([^"]+)" id="signin">([\s\S]*?)<\/form>/.exec(text);
  if (!form) throw new Error(`no sign-in form on page: ${text.slice(0, 500)}`);
  const fields = new URLSearchParams();
  for (const m of form[2]!.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) fields.set(m[1]!, decodeEntities(m[2]!));
  const logins = [...form[2]!.matchAll(/name="login" value="([^"]+)"/g)].map((m) => decodeEntities(m[1]!));
  if (!logins.includes(opts.login)) throw new Error(`account ${opts.login} not offered; page offers ${logins.join(', ')}`);
  fields.set('login', opts.login);
  fields.set('decision', opts.decision ?? 'accept');
  const action = new URL(decodeEntities(form[1]!), authorizeUrl);
  const res = await fetch(action, { method: 'POST', body: fields, redirect: 'manual' });
  const location = res.headers.get('location');
  await res.arrayBuffer();
  if (res.status !== 302 || !location) throw new Error(`sign-in form answered ${res.status} without a redirect`);
  return new URL(location);
}
