import { createHmac, timingSafeEqual } from 'node:crypto';
import { isHintedStripeObject, isPlainObject, isStripeObjectId, parsed, readBoolean, readString, type Parsed } from '@revtrail/shared';
import type { StripeHintInput } from '../store/types';

/** Stripe's own libraries' default: a delivery signed more than five minutes before it arrived is refused. */
export const SIGNATURE_TOLERANCE_S = 300;

/** The scheme Stripe signs live deliveries with (https://docs.stripe.com/webhooks#verify-manually). */
const SCHEME = 'v1';
/** Seconds as Stripe writes them: digits only (a `t` the stripe package would read as NaN is no signature at all here). */
const TIMESTAMP_RE = /^\d{1,12}$/;

export type SignatureVerdict = { ok: true } | { ok: false; reason: 'unsigned' | 'bad_signature' | 'stale' };

/**
 * `t=<seconds>,v1=<hex>,v1=<hex>,v0=...`: the timestamp and the v1 signatures, split as the stripe package's
 * parseHeader does (items by comma, key and value by the first `=` sign's split). Null without a timestamp or a v1.
 */
function parseSignatureHeader(header: string): { timestamp: number; signatures: string[] } | null {
  let timestamp = -1;
  const signatures: string[] = [];
  for (const item of header.split(',')) {
    const [key, value] = item.split('=');
    if (key === 't' && value !== undefined && TIMESTAMP_RE.test(value)) timestamp = Number(value);
    else if (key === SCHEME && value) signatures.push(value);
  }
  return timestamp === -1 || signatures.length === 0 ? null : { timestamp, signatures };
}

/** Constant time for equal lengths; a length differing says only that (both are hex of a SHA-256 when genuine). */
function sameSignature(expected: Buffer, candidate: string): boolean {
  const got = Buffer.from(candidate, 'utf8');
  return got.length === expected.length && timingSafeEqual(got, expected);
}

/**
 * Checks the `Stripe-Signature` header over the raw body with each secret in turn (two while one is rolled),
 * as Stripe documents the scheme (https://docs.stripe.com/webhooks#verify-manually): the hex HMAC-SHA256, keyed
 * with the endpoint's secret, of `<t>.<raw body>`, compared in constant time with each v1 signature, and `t`
 * no older than SIGNATURE_TOLERANCE_S at `now`. The same verdicts as the stripe package's verifyHeader
 * (test/stripe-signature.test.ts compares them over its generateTestHeaderString and constructEvent), with
 * node:crypto: the package is a quarter of a megabyte of the Lambda bundle for these few lines. One difference:
 * the HMAC is over the body's bytes as received, where the package hashes them decoded as UTF-8 (the same bytes
 * for every body Stripe sends, which is JSON in UTF-8).
 */
export async function verifySignature(body: Buffer, header: string | undefined, secrets: readonly string[], now: number): Promise<SignatureVerdict> {
  if (!header) return { ok: false, reason: 'unsigned' };
  const parsedHeader = parseSignatureHeader(header);
  // The package refuses an empty body and a blank secret before any comparison.
  if (!parsedHeader || body.length === 0) return { ok: false, reason: 'bad_signature' };
  const { timestamp, signatures } = parsedHeader;
  const prefix = Buffer.from(`${timestamp}.`, 'utf8');
  for (const secret of secrets) {
    if (/^[ \t\r\n\f\v]*$/.test(secret)) continue;
    const expected = Buffer.from(createHmac('sha256', secret).update(prefix).update(body).digest('hex'), 'utf8');
    // Every candidate is compared (no early exit), as the package filters the whole list.
    let found = false;
    for (const candidate of signatures) if (sameSignature(expected, candidate)) found = true;
    if (!found) continue;
    // Signed with this secret: in time, or too long ago (a timestamp ahead of `now` passes, as in the package).
    if (Math.floor(now / 1000) - timestamp > SIGNATURE_TOLERANCE_S) return { ok: false, reason: 'stale' };
    return { ok: true };
  }
  return { ok: false, reason: 'bad_signature' };
}

const EVENT_ID_RE = /^evt_[A-Za-z0-9]{1,250}$/;
const EVENT_TYPE_RE = /^[a-z0-9_]+(?:\.[a-z0-9_]+)+$/;
const ACCOUNT_RE = /^acct_[A-Za-z0-9]{1,250}$/;
/** Seconds: later than this is not a time Stripe writes (year 5138), and would make no sane partition key. */
const CREATED_MAX_S = 1e11;

export interface ReadEvent {
  type: string;
  /** `data.object.object`, when a string. */
  objectType: string | null;
  /** The hint to keep, or null: an event whose object the desktop's sync does not read (acknowledged, dropped). */
  hint: StripeHintInput | null;
}

/**
 * A verified body read as a Stripe event (Stripe's OpenAPI `event`: id, object, type, created, livemode,
 * data.object; `account` for Connect). Only what names the object is kept: none of the payload's fields.
 */
export function readEvent(body: Buffer): Parsed<ReadEvent> {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    return { ok: false, problems: ['the body is not JSON'] };
  }
  if (!isPlainObject(json)) return { ok: false, problems: ['the body is not a JSON object'] };
  const problems: string[] = [];
  if (json.object !== 'event') problems.push('object: must be "event"');
  const id = readString(json, 'id', { required: true, max: 255, check: (v) => (EVENT_ID_RE.test(v) ? null : 'must be an event id (evt_...)') }, problems);
  const type = readString(json, 'type', { required: true, max: 100, check: (v) => (EVENT_TYPE_RE.test(v) ? null : 'must be an event type such as charge.refunded') }, problems);
  const created = json.created;
  if (typeof created !== 'number' || !Number.isInteger(created) || created <= 0 || created > CREATED_MAX_S) problems.push('created: must be a time in seconds');
  const livemode = readBoolean(json, 'livemode', problems);
  if (livemode === undefined && json.livemode === undefined) problems.push('livemode: required');
  const account = readString(json, 'account', { max: 255, nullable: true, check: (v) => (ACCOUNT_RE.test(v) ? null : 'must be an account id (acct_...)') }, problems);
  const object = isPlainObject(json.data) && isPlainObject(json.data.object) ? json.data.object : null;
  if (!object) problems.push('data.object: must be an object');
  if (problems.length > 0 || !object) return { ok: false, problems };

  const objectType = typeof object.object === 'string' ? object.object : null;
  if (!isHintedStripeObject(objectType)) return parsed({ type: type!, objectType, hint: null }, problems);
  if (!isStripeObjectId(object.id)) problems.push(`data.object.id: must be the ${objectType}'s id`);
  return parsed(
    {
      type: type!,
      objectType,
      hint: {
        eventId: id!,
        eventType: type!,
        objectType,
        objectId: object.id as string,
        createdAt: (created as number) * 1000,
        livemode: livemode!,
        account: account ?? null,
      },
    },
    problems,
  );
}
