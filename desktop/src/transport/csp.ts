/**
 * The one Content-Security-Policy: the app loads nothing from anywhere but itself (QR codes are data:
 * images). The browser-mode server sends it as a header, Electron's session adds it to every response,
 * and index.html carries it as a meta tag (less frame-ancestors, which a meta tag cannot set).
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');
