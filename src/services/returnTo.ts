import { TetherError } from '../errors.ts';

export const RETURN_TO_MAX_LENGTH = 2048;

/**
 * Checks a connect session's `returnTo` against the allowlist of exact origins (Tether's own is
 * always in it) and returns the URL to store. Open redirects hide in parser differences, so the
 * check is deliberately narrow (OWASP Unvalidated Redirects cheat sheet): an absolute http(s) URL
 * written out in full, no backslashes, whitespace or control characters, no userinfo, and the raw
 * text itself must start with an allowed origin followed by `/`, `?`, `#` or nothing — so that
 * `//evil`, `/\evil`, `https:evil`, `https://good@evil`, `javascript:` and look-alike hosts
 * (`good.example.evil`, IDN homographs, which are punycode here) are all refused.
 */
export function checkReturnTo(raw: string, allowedOrigins: readonly string[]): string {
  const refuse = (why: string) => new TetherError(422, 'return_to_not_allowed', `returnTo is not allowed: ${why}.`, { details: { allowedOrigins } });
  if (raw.length > RETURN_TO_MAX_LENGTH) throw refuse(`longer than ${RETURN_TO_MAX_LENGTH} characters`);
  // Printable ASCII only, no backslash: IDNs must be sent in their punycode form.
  if (!/^[\x21-\x5b\x5d-\x7e]+$/.test(raw)) throw refuse('only printable ASCII without spaces or backslashes');
  if (!/^https?:\/\/[^/]/i.test(raw)) throw refuse('it must be an absolute http(s) URL');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw refuse('not a URL');
  }
  if (url.username !== '' || url.password !== '') throw refuse('no user information');
  if (!allowedOrigins.includes(url.origin)) throw refuse(`${url.origin} is not an allowed origin`);
  const rest = raw.slice(url.origin.length);
  if (raw.slice(0, url.origin.length).toLowerCase() !== url.origin || !(rest === '' || /^[/?#]/.test(rest))) {
    throw refuse('it must start with the allowed origin exactly');
  }
  return url.href;
}
