import { describe, expect, it } from 'vitest';
import { hashEmail } from './email';
import { botIdOf, botLink, hashTelegramUser, isBotUsername, isTelegramBotToken, START_TOKEN_RE, TELEGRAM_USER_HASH_RE } from './telegram';

const KEY = 'k'.repeat(32);

describe('telegram', () => {
  it('takes bot usernames as BotFather does: 5-32 characters ending in bot', () => {
    expect(['shopbot', 'Shop_Bot', 'a1bot', `a${'x'.repeat(28)}bot`].every(isBotUsername)).toBe(true);
    expect(['abot', 'shop', '_shopbot', 'shop-bot', `a${'x'.repeat(29)}bot`, 42].some(isBotUsername)).toBe(false);
  });

  it('reads the bot id off a token and builds deep links', () => {
    expect(isTelegramBotToken('123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11')).toBe(true);
    expect(isTelegramBotToken('123456ABC-DEF1234ghIkl-zyx57W2v1u123ew11')).toBe(false);
    expect(botIdOf('123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11')).toBe('123456');
    expect(botLink('shop_bot', 'a'.repeat(32))).toBe(`https://t.me/shop_bot?start=${'a'.repeat(32)}`);
    expect([START_TOKEN_RE.test('a'.repeat(21)), START_TOKEN_RE.test('a'.repeat(22)), START_TOKEN_RE.test('a'.repeat(43)), START_TOKEN_RE.test('a'.repeat(44))]).toEqual([false, true, true, false]);
  });

  it('hashes a user id under the key, apart from email hashes of the same text', async () => {
    const hash = await hashTelegramUser(424242, KEY);
    expect(hash).toMatch(TELEGRAM_USER_HASH_RE);
    expect(await hashTelegramUser('424242', KEY)).toBe(hash);
    // Computed apart with node:crypto's createHmac('sha256', KEY) over "revtrail-telegram-user\u0000424242".
    expect(hash).toBe('ef5b4bb792eaf905fb129451b3f991b2b0badeff5413b41146c59a1dc0aed9ce');
    expect(await hashEmail('424242', KEY)).not.toBe(hash);
    expect(await hashTelegramUser(424242, 'z'.repeat(32))).not.toBe(hash);
    await expect(hashTelegramUser(1, 'short')).rejects.toThrow(RangeError);
  });
});
