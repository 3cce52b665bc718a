/**
 * Headers on every response of the GUI, API and static files alike.
 *
 * The Content-Security-Policy allows what the Vite + Preact + uPlot bundle needs and nothing
 * more: scripts and styles only from the GUI's own files (Vite emits no inline script, Preact and
 * uPlot set styles through the CSSOM, which CSP does not restrict), images from the GUI plus
 * `data:`/`blob:` (chart and waveform snapshots), media from the GUI plus `blob:` (audio fetched,
 * then played from memory), fetches to the GUI only. No plugins, no `<base>`, forms post only to
 * the GUI, and no other site may frame it (clickjacking). Responses may not be read by other
 * origins' pages (CORP) nor share a browsing context group with them (COOP).
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "media-src 'self' blob:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** The headers of every response; `tls` adds HSTS (only meaningful, and only honoured, over HTTPS). */
export function securityHeaders(tls: boolean): Readonly<Record<string, string>> {
  return {
    'content-security-policy': CONTENT_SECURITY_POLICY,
    'x-content-type-options': 'nosniff',
    // Call URLs hold numbers and Call-ID keys: never leak them to another site through Referer.
    'referrer-policy': 'no-referrer',
    // For browsers without frame-ancestors.
    'x-frame-options': 'DENY',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    ...(tls ? { 'strict-transport-security': 'max-age=31536000' } : {}),
  };
}
