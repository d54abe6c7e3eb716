/**
 * The studio's two HTML documents. Neither carries catalog data: the sign-in page is all a
 * stranger sees, and the app shell fetches everything through the authenticated API.
 */

/** Pages run our bundle only: no inline script, no third-party origin, no framing. */
export const APP_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob: data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

/** The sign-in page has no script at all; its few styles are inline, its icon ours. */
export const PROMPT_CSP = [
  "default-src 'none'",
  "img-src 'self'",
  "style-src 'unsafe-inline'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

/** The tab's icon: the studio's red mark on a dark tile (no request to a third party, no binary in the repo). */
export const FAVICON_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#141414"/>' +
  '<rect x="7" y="7" width="11" height="18" rx="2" fill="#e50914"/><rect x="20" y="7" width="5" height="18" rx="1" fill="#f5f5f5"/></svg>';

const ICON = '<link rel="icon" type="image/svg+xml" href="/studio/favicon.svg">';

const PROMPT_STYLE = `
body{font:16px/1.4 system-ui,sans-serif;background:#111;color:#eee;display:grid;place-items:center;min-height:100vh;margin:0}
form{background:#1c1c1c;padding:2rem;border-radius:8px;display:grid;gap:.75rem;min-width:18rem}
input,button{font:inherit;padding:.5rem;border-radius:4px;border:1px solid #444;background:#222;color:#eee}
button{background:#e50914;border:0;cursor:pointer}
p.error{color:#ff8080;margin:0}`;

export function promptPage(message?: 'wrong-token'): string {
  const error = message === 'wrong-token' ? '<p class="error" role="alert">That token is not valid.</p>' : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><title>Marquee studio: sign in</title>${ICON}<style>${PROMPT_STYLE}</style></head>
<body><form method="post" action="/studio/session">
<h1>Marquee studio</h1>${error}
<label for="token">Studio token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required maxlength="512" autofocus>
<button id="signin" type="submit">Sign in</button>
</form></body></html>`;
}

export function appPage(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><title>Marquee studio</title>${ICON}
<link rel="stylesheet" href="/studio/assets/app.css"><script type="module" src="/studio/assets/app.js"></script></head>
<body><main id="app" aria-busy="true">Loading the studio…</main></body></html>`;
}
