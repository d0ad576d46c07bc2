import { isPlainObject } from '@revtrail/shared';
import { GRAPH_API_VERSION, type MetaEvent } from './payload';

/**
 * One request to the Conversions API: POST <graph>/<version>/<pixel id>/events with `data` and the access token
 * (in the JSON body, never in the URL, which proxies and logs keep), answered `{events_received, messages,
 * fbtrace_id}` or `{error: {message, type, code, error_subcode, error_user_title, error_user_msg, fbtrace_id}}`.
 * Meta: "we recommend setting a timeout of 1500 milliseconds on the request" and retrying non-client errors
 * (https://developers.facebook.com/docs/marketing-api/conversions-api/support); the Graph API's error codes and
 * what to do about each: https://developers.facebook.com/docs/graph-api/guides/error-handling.
 */

export const GRAPH_TIMEOUT_MS = 1500;

/** 1 unknown and 2 service (temporary), 4, 17 and 613 throttling: wait and try again. */
const TRANSIENT_CODES = new Set([1, 2, 4, 17, 613]);
/** 190 access token expired or invalid, 102 session: only a new token helps. */
const TOKEN_CODES = new Set([102, 190]);

export interface GraphConnection {
  base: string;
  pixelId: string;
  token: string;
  testEventCode: string | null;
}

export interface GraphError {
  status: number | null;
  code: number | null;
  subcode: number | null;
  message: string;
  /** error_user_msg: the sentence Meta meant for the user, when it gave one. */
  userMessage: string | null;
  fbtraceId: string | null;
}

export type GraphOutcome =
  | { kind: 'ok'; status: number; eventsReceived: number; messages: unknown[]; fbtraceId: string | null }
  /** Worth trying again later: a timeout, a network failure, 5xx, or a transient code. */
  | ({ kind: 'retry' } & GraphError)
  /** Meta refused the token: nothing is sent until Meta is connected again. */
  | ({ kind: 'token' } & GraphError)
  /** Meta refused the request (one bad event refuses the whole batch): sending it again changes nothing. */
  | ({ kind: 'refused' } & GraphError);

export const eventsUrl = (base: string, pixelId: string): string => `${base.replace(/\/+$/, '')}/${GRAPH_API_VERSION}/${encodeURIComponent(pixelId)}/events`;

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isInteger(v) ? v : null);
const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v.slice(0, 2000) : null);

export async function sendToGraph(fetchFn: typeof fetch, conn: GraphConnection, events: MetaEvent[], timeoutMs = GRAPH_TIMEOUT_MS): Promise<GraphOutcome> {
  const body: Record<string, unknown> = { data: events, access_token: conn.token };
  if (conn.testEventCode) body.test_event_code = conn.testEventCode;
  let res: Response;
  let text: string;
  try {
    res = await fetchFn(eventsUrl(conn.base, conn.pixelId), {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'error',
    });
    text = await res.text();
  } catch (e) {
    const timedOut = (e as { name?: string }).name === 'TimeoutError';
    // The message names the host only: the token travels in the body, but be sure nothing of it is echoed.
    const host = URL.canParse(conn.base) ? new URL(conn.base).host : conn.base;
    return {
      kind: 'retry',
      status: null,
      code: null,
      subcode: null,
      message: timedOut ? `Meta (${host}) did not answer within ${timeoutMs / 1000} s.` : `Meta (${host}) could not be reached: ${(e as Error).message}.`,
      userMessage: null,
      fbtraceId: null,
    };
  }
  let answer: unknown = null;
  try {
    answer = JSON.parse(text);
  } catch {
    // Not JSON (a proxy's page, a gateway error): the status decides below.
  }
  const error = isPlainObject(answer) && isPlainObject(answer.error) ? answer.error : null;
  if (res.ok && !error && isPlainObject(answer) && typeof answer.events_received === 'number') {
    return { kind: 'ok', status: res.status, eventsReceived: answer.events_received, messages: Array.isArray(answer.messages) ? answer.messages : [], fbtraceId: str(answer.fbtrace_id) };
  }
  const failure: GraphError = {
    status: res.status,
    code: num(error?.code),
    subcode: num(error?.error_subcode),
    // The status goes to the log (sender.ts), not into the words a screen shows.
    message: str(error?.message) ?? (res.status >= 500 ? 'Meta\'s servers failed to take the request.' : 'Something other than Meta answered (a proxy or firewall in the way?).'),
    userMessage: str(error?.error_user_msg),
    fbtraceId: str(error?.fbtrace_id),
  };
  if (failure.code !== null && TOKEN_CODES.has(failure.code)) return { kind: 'token', ...failure };
  if (res.status >= 500 || (failure.code !== null && TRANSIENT_CODES.has(failure.code)) || (res.ok && !error)) return { kind: 'retry', ...failure };
  return { kind: 'refused', ...failure };
}
