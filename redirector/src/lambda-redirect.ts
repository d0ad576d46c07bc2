// The Lambda's redirects without Fastify: a function URL (payload 2.0) event for GET|HEAD /<link> is turned into
// the request facts Fastify and @fastify/aws-lambda (light-my-request's inject) gave the track route, answered by
// redirect.ts (the route's own code), and the answer into the function URL's response as @fastify/aws-lambda
// made it. Everything else goes to the apps (lambda.ts). test/lambda-direct.test.ts compares both ways.
import type { IncomingHttpHeaders } from 'node:http';
import { parseCookie } from 'cookie';
import type { AppContext } from './context';
import { answerRedirect, errorAnswer, redirectSlugOf, type Answer, type RedirectRequest } from './redirect';
import { vetForwarding } from './visitor';

/** A function URL's response (payload 2.0), as @fastify/aws-lambda returns it. */
export interface FunctionUrlResponse {
  statusCode: number;
  headers: Record<string, string>;
  cookies?: string[];
  isBase64Encoded: boolean;
  body: string;
}

interface FunctionUrlEvent {
  version?: unknown;
  rawPath?: unknown;
  rawQueryString?: unknown;
  headers?: Record<string, string | undefined> | null;
  cookies?: unknown;
  requestContext?: { http?: { method?: unknown; sourceIp?: unknown } } | null;
}

/** Headers @fastify/aws-lambda keeps for its own use and strips from every event. */
const RESERVED_HEADERS = new Set(['x-aws-lambda-fastify-request', 'x-apigateway-event', 'x-apigateway-context']);

/** Fastify's reading of a forwarding header it trusts (one hop): its last value. */
function lastEntry(value: string): string {
  const at = value.lastIndexOf(',');
  return at === -1 ? value.trim() : value.slice(at + 1).trim();
}

/**
 * The redirect's facts from a function URL event when it is one (GET|HEAD of a link's path, redirect.ts
 * redirectSlugOf), else null. As Fastify saw the request through @fastify/aws-lambda: header names in lower
 * case without the library's reserved ones, the cookies array joined into one Cookie header, the forwarding
 * headers vetted (vetForwarding) and then trusted one hop (trustProxy hop 0: X-Forwarded-For's last address,
 * else the source IP; X-Forwarded-Host's last value, else Host; X-Forwarded-Proto's, else http), the query as
 * sent (rawQueryString, not the comma-joined queryStringParameters). One difference: a request without a
 * User-Agent has none here (light-my-request put in its own, "lightMyRequest"), as on the local server.
 */
export function redirectFacts(event: unknown, ctx: AppContext): RedirectRequest | null {
  const e = event as FunctionUrlEvent | null;
  if (e === null || typeof e !== 'object' || e.version !== '2.0' || typeof e.rawPath !== 'string') return null;
  const method = e.requestContext?.http?.method;
  if (typeof method !== 'string') return null;
  const slug = redirectSlugOf(method, e.rawPath);
  if (slug === null) return null;

  const headers: IncomingHttpHeaders = {};
  const given = e.headers ?? {};
  for (const name in given) {
    const value = given[name];
    const lower = name.toLowerCase();
    if (value === undefined || RESERVED_HEADERS.has(lower)) continue;
    headers[lower] = `${value}`;
  }
  if (Array.isArray(e.cookies) && e.cookies.length > 0) headers.cookie = e.cookies.join(';');
  // light-my-request's Host when there is none (a function URL always has one).
  headers.host ||= 'localhost:80';
  vetForwarding(headers, ctx.config);
  ctx.retention.refreshIfStale();

  const forwardedFor = headers['x-forwarded-for'];
  const sourceIp = e.requestContext?.http?.sourceIp;
  const forwardedHost = headers['x-forwarded-host'];
  const host = typeof forwardedHost === 'string' && forwardedHost !== '' ? lastEntry(forwardedHost) : headers.host;
  const forwardedProto = headers['x-forwarded-proto'];
  const rawQuery = e.rawQueryString;
  return {
    method,
    slug,
    rawQuery: typeof rawQuery === 'string' ? rawQuery : '',
    headers,
    cookies: headers.cookie ? parseCookie(headers.cookie) : {},
    ip: typeof forwardedFor === 'string' && forwardedFor !== '' ? lastEntry(forwardedFor) : typeof sourceIp === 'string' && sourceIp !== '' ? sourceIp : '127.0.0.1',
    hostname: host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':', 1)[0]!,
    protocol: typeof forwardedProto === 'string' && forwardedProto !== '' ? lastEntry(forwardedProto) : 'http',
  };
}

/** The Date header's value, made once a second (as Node's HTTP server does). */
let date = { second: -1, value: '' };
function dateHeader(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== date.second) date = { second, value: new Date(now).toUTCString() };
  return date.value;
}

/**
 * An answer as @fastify/aws-lambda returned Fastify's (through light-my-request's ServerResponse): Set-Cookie
 * in `cookies`, Content-Length (but for a HEAD without a body), Date and Connection added, no body for HEAD.
 */
function asResponse(answer: Answer, method: string): FunctionUrlResponse {
  const body = answer.body ?? '';
  const headers: Record<string, string> = { ...answer.headers };
  // Fastify sends no Content-Length for a HEAD without a body.
  if (method !== 'HEAD' || answer.body !== null) headers['content-length'] = `${Buffer.byteLength(body)}`;
  headers.date = dateHeader();
  headers.connection = 'keep-alive';
  const res: FunctionUrlResponse = { statusCode: answer.status, headers, isBase64Encoded: false, body: method === 'HEAD' ? '' : body };
  if (answer.cookies.length > 0) res.cookies = answer.cookies;
  return res;
}

/**
 * The function URL response to a redirect event, or null when the event is not one (then the apps answer it).
 * An error (the store's lookup or the click's write failing) is answered as the app's error handler does.
 */
export function directRedirect(ctx: AppContext, event: unknown): FunctionUrlResponse | Promise<FunctionUrlResponse> | null {
  const req = redirectFacts(event, ctx);
  if (req === null) return null;
  const failed = (e: unknown): FunctionUrlResponse => {
    const { status, body } = errorAnswer(e as Error, ctx.log, '/:slug');
    return asResponse({ status, headers: { 'content-type': 'application/json; charset=utf-8' }, cookies: [], body }, req.method);
  };
  try {
    const answer = answerRedirect(ctx, req);
    return 'then' in answer ? answer.then((a) => asResponse(a, req.method), failed) : asResponse(answer, req.method);
  } catch (e) {
    return failed(e);
  }
}

/**
 * The request as the visitor sent it. A function URL (payload 2.0) gives the query twice: `rawQueryString`
 * as sent, and `queryStringParameters` with repeated keys merged into one comma-joined value, which
 * @fastify/aws-lambda would re-encode (`?tag=a&tag=b` became `?tag=a%2Cb`). The raw one wins.
 */
export function asSent(event: unknown): unknown {
  const e = event as { version?: unknown; rawPath?: unknown; rawQueryString?: unknown };
  if (e === null || typeof e !== 'object' || e.version !== '2.0' || typeof e.rawPath !== 'string') return event;
  const query = typeof e.rawQueryString === 'string' && e.rawQueryString !== '' ? `?${e.rawQueryString}` : '';
  return { ...e, rawPath: `${e.rawPath}${query}`, queryStringParameters: undefined };
}

/**
 * No error reply may be cached: CloudFront keeps a 4xx or 5xx for its error-caching TTL (10 s by default) and
 * serves it to every visitor of that link meanwhile. no-store, with the Router's error-caching TTL of 0
 * (sst.config.ts), makes the next request ask the function again.
 */
export function uncachedErrors<R extends { statusCode: number; headers?: Record<string, unknown> }>(res: R): R {
  if (res.statusCode >= 400 && !Object.keys(res.headers ?? {}).some((h) => h.toLowerCase() === 'cache-control')) {
    res.headers = { ...res.headers, 'cache-control': 'no-store' };
  }
  return res;
}
