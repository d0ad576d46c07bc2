/** Currency conversion as the attribution ledger and the reports use it (implemented in ./rates.ts). */

export type RateSource = 'ecb' | 'stripe' | 'same';

export interface Converted {
  ok: true;
  /** In the target currency's minor units, rounded half away from zero. */
  amountMinor: number;
  /** Units of the target currency per 1 unit of the source currency. */
  rate: number;
  /** The ECB publication day used (YYYY-MM-DD), or the charge's own day for Stripe and same-currency rates. */
  rateDate: string;
  source: RateSource;
  /**
   * True when the row's UTC day is after the newest day in the rate history: that day's rate may still be
   * published, and the row is converted again when it is. (A Sunday charge at Friday's rate is final.)
   */
  provisional: boolean;
  /**
   * Set when Stripe's rate took the amount into its settlement currency and the ECB's took it on to the
   * target: that settlement currency. rateDate is then the ECB day of that second step, and `rate` the product.
   */
  via?: string;
}

export interface Unconverted {
  ok: false;
  reason: string;
}

export interface ConvertInput {
  amountMinor: number;
  /** ISO 4217, any case. */
  currency: string;
  /** When the money moved (UTC epoch ms): the rate is the last published on or before its UTC day. */
  at: number;
  /** The reporting currency. */
  to: string;
  /** Stripe's balance transaction, used only when the ECB has no rate for either side. */
  stripe?: { exchangeRate: number | null; settlementCurrency: string | null } | null;
}

export interface FxConverter {
  convert(input: ConvertInput): Converted | Unconverted;
}
