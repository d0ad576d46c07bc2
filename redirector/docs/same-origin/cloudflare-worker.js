// Revtrail same-origin mode as a Cloudflare Worker on your site's zone: docs/same-origin.md.
// Route: brand.com/_rt/* (Workers Routes). Secret: npx wrangler secret put REVTRAIL_PROXY_SECRET
const TARGET = 'https://go.brand.com';
const PREFIX = '/_rt/';

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (!url.pathname.startsWith(PREFIX)) return fetch(request);
    const headers = new Headers(request.headers);
    // Whatever the visitor sent under these names goes: only ours reach Revtrail.
    for (const name of [...headers.keys()]) if (name === 'host' || name.startsWith('x-revtrail-')) headers.delete(name);
    headers.set('x-revtrail-proxy-proof', env.REVTRAIL_PROXY_SECRET);
    headers.set('x-revtrail-host', url.host);
    headers.set('x-revtrail-client-ip', request.headers.get('cf-connecting-ip') ?? '');
    headers.set('x-revtrail-proto', url.protocol.slice(0, -1));
    headers.set('x-revtrail-country', request.cf?.country ?? '');
    const body = request.method === 'GET' || request.method === 'HEAD' ? undefined : await request.arrayBuffer();
    // manual: Revtrail's redirect goes to the browser, with its Set-Cookie.
    return fetch(new URL(url.pathname.slice(PREFIX.length - 1) + url.search, TARGET), { method: request.method, headers, body, redirect: 'manual' });
  },
};
