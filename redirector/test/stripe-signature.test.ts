// verifySignature (node:crypto, Stripe's documented scheme) against the stripe package itself: the same
// verdict as its constructEvent on headers its generateTestHeaderString signs, and on headers broken in
// the ways a delivery can be (wrong secret, changed body, stale, future, several v1s, v0 only, malformed).
import { createHmac } from 'node:crypto';
import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { SIGNATURE_TOLERANCE_S, verifySignature, type SignatureVerdict } from '../src/webhook/verify';

const SECRET = 'whsec_test_secret_for_equivalence_0123456789';
const OTHER = 'whsec_other_secret_9876543210';
const NOW_MS = 1_767_225_600_000; // 2026-01-01T00:00:00Z
const nowS = Math.floor(NOW_MS / 1000);
const payload = JSON.stringify({ id: 'evt_1Equivalence', object: 'event', type: 'charge.succeeded', data: { object: { id: 'ch_1', note: 'é ✓' } } }, null, 2);
const hmac = (secret: string, t: number, body: string) => createHmac('sha256', secret).update(`${t}.${body}`, 'utf8').digest('hex');
const signed = (opts: { secret?: string; timestamp?: number; payload?: string; scheme?: string }) =>
  Stripe.webhooks.generateTestHeaderString({ payload: opts.payload ?? payload, secret: opts.secret ?? SECRET, timestamp: opts.timestamp ?? nowS, scheme: opts.scheme });

/** The package's verdict, in verifySignature's terms (its constructEvent with the same tolerance and clock). */
function packageVerdict(body: string, header: string, secrets: string[]): SignatureVerdict {
  const passes = (secret: string, tolerance: number) => {
    try {
      Stripe.webhooks.constructEvent(body, header, secret, tolerance, undefined, NOW_MS);
      return true;
    } catch {
      return false;
    }
  };
  if (!header) return { ok: false, reason: 'unsigned' };
  if (secrets.some((s) => passes(s, SIGNATURE_TOLERANCE_S))) return { ok: true };
  return { ok: false, reason: secrets.some((s) => passes(s, 0)) ? 'stale' : 'bad_signature' };
}

const cases: [string, string, string, string[]][] = [
  ['signed now', payload, signed({}), [SECRET]],
  ['signed with the second of two secrets (a roll)', payload, signed({}), [OTHER, SECRET]],
  ['a wrong secret', payload, signed({ secret: OTHER }), [SECRET]],
  ['a body changed after signing', payload.replace('charge.succeeded', 'charge.refunded'), signed({}), [SECRET]],
  ['signed 300 s ago (the edge)', payload, signed({ timestamp: nowS - SIGNATURE_TOLERANCE_S }), [SECRET]],
  ['signed 301 s ago', payload, signed({ timestamp: nowS - SIGNATURE_TOLERANCE_S - 1 }), [SECRET]],
  ['signed an hour ago with the wrong secret', payload, signed({ timestamp: nowS - 3600, secret: OTHER }), [SECRET]],
  ['signed in the future', payload, signed({ timestamp: nowS + 3600 }), [SECRET]],
  ['a v1 that does not match, then one that does', payload, `t=${nowS},v1=${'0'.repeat(64)},v1=${hmac(SECRET, nowS, payload)}`, [SECRET]],
  ['only a v0 signature', payload, `t=${nowS},v0=${hmac(SECRET, nowS, payload)}`, [SECRET]],
  ['the v1 signature truncated', payload, `t=${nowS},v1=${hmac(SECRET, nowS, payload).slice(0, 63)}`, [SECRET]],
  ['the v1 signature in capitals', payload, `t=${nowS},v1=${hmac(SECRET, nowS, payload).toUpperCase()}`, [SECRET]],
  ['no timestamp', payload, `v1=${hmac(SECRET, nowS, payload)}`, [SECRET]],
  ['no header', payload, '', [SECRET]],
  ['a header that is not Stripe\'s', payload, 'sha256=0123abcd', [SECRET]],
  ['an empty body', '', signed({ payload: '' }), [SECRET]],
  ['a blank secret configured', payload, signed({ secret: ' ' }), [' ']],
  ['the signature of another timestamp', payload, `t=${nowS - 1},v1=${hmac(SECRET, nowS, payload)}`, [SECRET]],
];

describe('Stripe signatures: verifySignature gives the stripe package\'s verdict', () => {
  it.each(cases)('%s', async (_name, body, header, secrets) => {
    const expected = packageVerdict(body, header, secrets);
    expect(await verifySignature(Buffer.from(body, 'utf8'), header || undefined, secrets, NOW_MS)).toEqual(expected);
  });

  it('covers each verdict', () => {
    const verdicts = new Set(cases.map(([, body, header, secrets]) => JSON.stringify(packageVerdict(body, header, secrets))));
    expect([...verdicts].sort()).toEqual(
      [{ ok: true }, { ok: false, reason: 'stale' }, { ok: false, reason: 'bad_signature' }, { ok: false, reason: 'unsigned' }].map((v) => JSON.stringify(v)).sort(),
    );
  });

  it('agrees on 200 random bodies, secrets and times', async () => {
    for (let i = 0; i < 200; i++) {
      const body = JSON.stringify({ id: `evt_${i}`, n: Math.random(), s: String.fromCodePoint(0x20 + Math.floor(Math.random() * 0x2000)) });
      const secret = `whsec_${Math.random().toString(36).slice(2)}`;
      const t = nowS - Math.floor(Math.random() * 2 * SIGNATURE_TOLERANCE_S);
      const header = signed({ payload: body, secret, timestamp: t });
      const secrets = Math.random() < 0.3 ? [OTHER] : [secret];
      expect(await verifySignature(Buffer.from(body, 'utf8'), header, secrets, NOW_MS)).toEqual(packageVerdict(body, header, secrets));
    }
  });
});
