// Revtrail same-origin mode on Netlify: save as netlify/edge-functions/revtrail.ts (docs/same-origin.md).
// Secret: netlify env:set REVTRAIL_PROXY_SECRET <value> --secret
import type { Config, Context } from '@netlify/edge-functions';

const TARGET = 'https://go.brand.com';
const PREFIX = '/_rt/';

export default async (request: Request, context: Context) => {
  const url = new URL(request.url);
  const headers = new Headers(request.headers);
  // Whatever the visitor sent under these names goes: only ours reach Revtrail.
  for (const name of [...headers.keys()]) if (name === 'host' || name.startsWith('x-revtrail-')) headers.delete(name);
  headers.set('x-revtrail-proxy-proof', Netlify.env.get('REVTRAIL_PROXY_SECRET') ?? '');
  headers.set('x-revtrail-host', url.host);
  headers.set('x-revtrail-client-ip', context.ip);
  headers.set('x-revtrail-proto', url.protocol.slice(0, -1));
  headers.set('x-revtrail-country', context.geo?.country?.code ?? '');
  const body = request.method === 'GET' || request.method === 'HEAD' ? undefined : await request.arrayBuffer();
  // manual: Revtrail's redirect goes to the browser, with its Set-Cookie.
  return fetch(new URL(url.pathname.slice(PREFIX.length - 1) + url.search, TARGET), { method: request.method, headers, body, redirect: 'manual' });
};

export const config: Config = { path: '/_rt/*' };
