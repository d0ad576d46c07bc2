import { isCurrencyCode, isPlainObject, isTelegramUserId } from '@revtrail/shared';

/**
 * What an update says that attribution needs, read from Telegram's Update object
 * (https://core.telegram.org/bots/api#update): a private `/start <payload>` (deep linking,
 * https://core.telegram.org/bots/features#deep-linking), a `successful_payment` or a `refunded_payment`
 * (https://core.telegram.org/bots/api#successfulpayment, #refundedpayment). Everything else is `other`:
 * forwarded when a previous webhook is set, never kept. Nothing of the message is kept beyond these fields:
 * no text, name, username, invoice payload or order info.
 */
export type ReadUpdate =
  | { kind: 'start'; updateId: number; userId: number; at: number; payload: string }
  | {
      kind: 'payment' | 'refund';
      updateId: number;
      userId: number;
      at: number;
      currency: string;
      amountMinor: number;
      chargeId: string;
      providerChargeId: string | null;
      recurring: boolean;
    }
  | { kind: 'other'; updateId: number };

/** `/start PAYLOAD` as Telegram sends it for t.me/<bot>?start=PAYLOAD (1-64 characters of A-Za-z0-9_-). */
const START_RE = /^\/start ([A-Za-z0-9_-]{1,64})$/;
const CHARGE_ID_RE = /^[\x21-\x7e]{1,255}$/;
/** A message date later than this (seconds) is not a time Telegram writes. */
const DATE_MAX_S = 1e11;

export function readUpdate(body: Buffer): { ok: true; update: ReadUpdate } | { ok: false; problem: string } {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    return { ok: false, problem: 'the body is not JSON' };
  }
  if (!isPlainObject(json)) return { ok: false, problem: 'the body is not a JSON object' };
  const updateId = json.update_id;
  if (typeof updateId !== 'number' || !Number.isSafeInteger(updateId) || updateId < 0) return { ok: false, problem: 'update_id: must be a whole number' };
  const other = { ok: true as const, update: { kind: 'other' as const, updateId } };
  // Only new messages: an edited /start or a channel post binds no one.
  const message = json.message;
  if (!isPlainObject(message)) return other;
  const from = isPlainObject(message.from) ? message.from : null;
  const date = message.date;
  if (!from || !isTelegramUserId(from.id) || from.is_bot === true) return other;
  if (typeof date !== 'number' || !Number.isSafeInteger(date) || date <= 0 || date > DATE_MAX_S) return { ok: false, problem: 'message.date: must be a time in seconds' };
  const base = { updateId, userId: from.id, at: date * 1000 };

  const paid = isPlainObject(message.successful_payment) ? message.successful_payment : null;
  const refunded = isPlainObject(message.refunded_payment) ? message.refunded_payment : null;
  const payment = paid ?? refunded;
  if (payment) {
    const field = paid ? 'successful_payment' : 'refunded_payment';
    const amount = payment.total_amount;
    if (!isCurrencyCode(payment.currency) || payment.currency !== payment.currency.toUpperCase()) return { ok: false, problem: `message.${field}.currency: must be a currency code such as XTR or USD` };
    if (typeof amount !== 'number' || !Number.isSafeInteger(amount) || amount <= 0) return { ok: false, problem: `message.${field}.total_amount: must be a positive whole number` };
    if (typeof payment.telegram_payment_charge_id !== 'string' || !CHARGE_ID_RE.test(payment.telegram_payment_charge_id)) {
      return { ok: false, problem: `message.${field}.telegram_payment_charge_id: must be Telegram's payment identifier` };
    }
    const provider = payment.provider_payment_charge_id;
    return {
      ok: true,
      update: {
        kind: paid ? 'payment' : 'refund',
        ...base,
        currency: payment.currency,
        amountMinor: amount,
        chargeId: payment.telegram_payment_charge_id,
        providerChargeId: typeof provider === 'string' && CHARGE_ID_RE.test(provider) ? provider : null,
        recurring: payment.is_recurring === true,
      },
    };
  }

  const chat = isPlainObject(message.chat) ? message.chat : null;
  const start = typeof message.text === 'string' && chat?.type === 'private' ? START_RE.exec(message.text) : null;
  if (start) return { ok: true, update: { kind: 'start', ...base, payload: start[1]! } };
  return other;
}
