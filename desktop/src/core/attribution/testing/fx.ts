import { currencyExponent, roundHalfAwayFromZero, utcDay } from '@revtrail/shared';
import type { FxConverter } from '../../fx/types';

/**
 * A converter for tests from a few hand-written rates (units of USD per 1 unit of the currency, the same
 * every day): predictable amounts, no rate history. Days after `newestDay` convert provisionally; a
 * currency not listed is unconverted.
 */
export function fixedRates(usdPer: Record<string, number>, newestDay = '2099-12-31'): FxConverter {
  const rates: Record<string, number> = { USD: 1, ...usdPer };
  return {
    convert({ amountMinor, currency, at, to }) {
      const from = rates[currency.toUpperCase()];
      const target = rates[to.toUpperCase()];
      if (from === undefined || target === undefined) return { ok: false, reason: `no rate for ${currency.toUpperCase()}` };
      const same = currency.toUpperCase() === to.toUpperCase();
      const rate = same ? 1 : from / target;
      const scale = 10 ** (currencyExponent(to) - currencyExponent(currency));
      const day = utcDay(at);
      return { ok: true, amountMinor: roundHalfAwayFromZero(amountMinor * rate * scale), rate, rateDate: day, source: same ? 'same' : 'ecb', provisional: !same && day > newestDay };
    },
  };
}
