/**
 * Telegram updates as the Bot API delivers them to a webhook (https://core.telegram.org/bots/api#update,
 * Message, User, Chat, SuccessfulPayment, RefundedPayment), with what a real one carries beside what Revtrail
 * reads: the user's names and username, the chat, the invoice payload, order info.
 */
export const SECRET_TOKEN = 'tg-secret_0123456789-abcdefghijklmnopqrstuvwxyz';
export const BOT_TOKEN = '7012345678:AAE_test-TOKEN_0123456789abcdefghijklmnop';
export const USER_ID = 724_365_116;

export const user = (id = USER_ID) => ({ id, is_bot: false, first_name: 'Ada', last_name: 'Lovelace', username: 'ada_l', language_code: 'en' });

/** A private message of `id` at `date` (seconds). */
function message(date: number, id: number, more: Record<string, unknown>) {
  return { message_id: 100 + (date % 1000), from: user(id), chat: { id, first_name: 'Ada', last_name: 'Lovelace', username: 'ada_l', type: 'private' }, date, ...more };
}

/** `/start <payload>`, as Telegram sends it when the user presses Start on t.me/<bot>?start=<payload>. */
export function startUpdate(updateId: number, payload: string, at: number, userId = USER_ID) {
  return { update_id: updateId, message: message(Math.floor(at / 1000), userId, { text: `/start ${payload}`, entities: [{ offset: 0, length: 6, type: 'bot_command' }] }) };
}

export function starsPayment(updateId: number, chargeId: string, stars: number, at: number, userId = USER_ID) {
  return {
    update_id: updateId,
    message: message(Math.floor(at / 1000), userId, {
      successful_payment: {
        currency: 'XTR',
        total_amount: stars,
        invoice_payload: 'order-7781 ada@example.com',
        telegram_payment_charge_id: chargeId,
        provider_payment_charge_id: '',
        order_info: { name: 'Ada Lovelace', email: 'ada@example.com', phone_number: '+441234567890' },
      },
    }),
  };
}

export function starsRefund(updateId: number, chargeId: string, stars: number, at: number, userId = USER_ID) {
  return {
    update_id: updateId,
    message: message(Math.floor(at / 1000), userId, {
      refunded_payment: { currency: 'XTR', total_amount: stars, invoice_payload: 'order-7781 ada@example.com', telegram_payment_charge_id: chargeId },
    }),
  };
}

export const textUpdate = (updateId: number, text: string, at: number, userId = USER_ID) => ({ update_id: updateId, message: message(Math.floor(at / 1000), userId, { text }) });

export const webhookHeaders = (secret: string | null = SECRET_TOKEN): Record<string, string> => ({
  'content-type': 'application/json',
  ...(secret === null ? {} : { 'x-telegram-bot-api-secret-token': secret }),
});
