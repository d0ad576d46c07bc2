// Revtrail same-origin mode for Next.js (on Vercel or your own server): docs/same-origin.md.
// middleware.ts at the project root (beside app/ or pages/). Next.js 16 names it proxy.ts and the function
// proxy. Secret: the REVTRAIL_PROXY_SECRET environment variable (on Vercel, a Sensitive one).
import { NextResponse, type NextRequest } from 'next/server';

const TARGET = 'https://go.brand.com';
const PREFIX = '/_rt/';

export function middleware(request: NextRequest) {
  const { pathname, search, host, protocol } = request.nextUrl;
  const headers = new Headers(request.headers);
  // Whatever the visitor sent under these names goes: only ours reach Revtrail.
  for (const name of [...headers.keys()]) if (name.startsWith('x-revtrail-')) headers.delete(name);
  headers.set('x-revtrail-proxy-proof', process.env.REVTRAIL_PROXY_SECRET ?? '');
  headers.set('x-revtrail-host', request.headers.get('host') ?? host);
  // Vercel puts the visitor's address first in X-Forwarded-For, replacing any the visitor sent; behind another
  // proxy, take the address from the header that proxy sets.
  headers.set('x-revtrail-client-ip', (request.headers.get('x-forwarded-for') ?? '').split(',')[0]!.trim());
  headers.set('x-revtrail-proto', protocol.slice(0, -1));
  headers.set('x-revtrail-country', request.headers.get('x-vercel-ip-country') ?? '');
  return NextResponse.rewrite(new URL(pathname.slice(PREFIX.length - 1) + search, TARGET), { request: { headers } });
}

export const config = { matcher: '/_rt/:path*' };
