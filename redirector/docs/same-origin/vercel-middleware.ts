// Revtrail same-origin mode on Vercel for any framework (Vercel Routing Middleware): docs/same-origin.md.
// middleware.ts at the project root, beside package.json; npm install @vercel/functions.
// Secret: the REVTRAIL_PROXY_SECRET environment variable (a Sensitive one).
import { geolocation, ipAddress, rewrite } from '@vercel/functions';

const TARGET = 'https://go.brand.com';
const PREFIX = '/_rt/';

export default function middleware(request: Request) {
  const url = new URL(request.url);
  const headers = new Headers(request.headers);
  // Whatever the visitor sent under these names goes: only ours reach Revtrail.
  for (const name of [...headers.keys()]) if (name.startsWith('x-revtrail-')) headers.delete(name);
  headers.set('x-revtrail-proxy-proof', process.env.REVTRAIL_PROXY_SECRET ?? '');
  headers.set('x-revtrail-host', url.host);
  headers.set('x-revtrail-client-ip', ipAddress(request) ?? '');
  headers.set('x-revtrail-proto', url.protocol.slice(0, -1));
  headers.set('x-revtrail-country', geolocation(request).country ?? '');
  return rewrite(new URL(url.pathname.slice(PREFIX.length - 1) + url.search, TARGET), { request: { headers } });
}

export const config = { matcher: '/_rt/:path*' };
