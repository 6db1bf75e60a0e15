// The server-rendered sign-in + consent page every emulator shows at its authorization endpoint.
// It is deliberately plain HTML with one form, so a browser, Playwright or a test's fetch can
// drive it: pick an account, accept or cancel. The form posts back to the same authorization URL.
import { escapeHtml, html, type SbResponse } from './http.ts';

export interface SignInAccount {
  id: string;
  email: string;
  displayName: string;
}

export function renderSignIn(opts: {
  brand: string;
  action: string;
  pendingId: string;
  appName: string;
  scopes: string[];
  accounts: SignInAccount[];
  loginHint?: string;
  message?: string;
}): SbResponse {
  const hinted = opts.accounts.find((a) => a.email.toLowerCase() === opts.loginHint?.toLowerCase());
  const selected = hinted ?? opts.accounts[0];
  const rows = opts.accounts
    .map(
      (a) =>
        `<li><label><input type="radio" name="login" value="${escapeHtml(a.email)}"${a === selected ? ' checked' : ''}> ${escapeHtml(a.displayName)} &lt;${escapeHtml(a.email)}&gt;</label></li>`,
    )
    .join('\n');
  const scopes = opts.scopes.map((s) => `<li><code>${escapeHtml(s)}</code></li>`).join('');
  return html(
    200,
    `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in - ${escapeHtml(opts.brand)} (sandbox)</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem}ul{list-style:none;padding:0}li{margin:.4rem 0}button{margin-right:.5rem;padding:.4rem 1rem}</style></head>
<body>
<h1>${escapeHtml(opts.brand)}</h1>
<p>Sandbox sign-in. <strong>${escapeHtml(opts.appName)}</strong> wants to:</p>
<ul class="scopes">${scopes}</ul>
${opts.message ? `<p role="alert">${escapeHtml(opts.message)}</p>` : ''}
<form method="post" action="${escapeHtml(opts.action)}" id="signin">
<input type="hidden" name="pending" value="${escapeHtml(opts.pendingId)}">
<fieldset><legend>Choose an account</legend><ul class="accounts">
${rows}
</ul></fieldset>
<button type="submit" name="decision" value="accept">Accept</button>
<button type="submit" name="decision" value="cancel">Cancel</button>
</form>
</body></html>`,
  );
}
