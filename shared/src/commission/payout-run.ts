/**
 * The arithmetic of a payout run: per partner and currency, the approved commissions (net of their
 * reversals) plus the clawbacks owed. A positive balance at or over the minimum is paid; anything else is
 * carried forward with the reason, and its lines stay unpaid for a later run.
 */

export type PayoutMethod = 'paypal' | 'wise' | 'manual';
export const PAYOUT_METHODS: readonly PayoutMethod[] = ['paypal', 'wise', 'manual'];

export interface PartnerBalance {
  partnerId: string;
  currency: string;
  method: PayoutMethod;
  /** Approved commissions net of their reversals (>= 0). */
  commissionMinor: number;
  /** Clawbacks owed (<= 0). */
  clawbackMinor: number;
  commissionCount: number;
  minimumMinor: number;
  /** Why the partner cannot be paid at all right now (paused, no PayPal email, ...); null when it can. */
  blocked: string | null;
}

export interface PayoutItemPlan {
  partnerId: string;
  amountMinor: number;
  commissionMinor: number;
  clawbackMinor: number;
  commissionCount: number;
}

export interface BatchPlan {
  method: PayoutMethod;
  currency: string;
  totalMinor: number;
  items: PayoutItemPlan[];
}

export type CarryReason = 'negative_balance' | 'under_minimum' | 'nothing_owed' | 'blocked';

export interface CarriedForward {
  partnerId: string;
  currency: string;
  balanceMinor: number;
  reason: CarryReason;
  /** For people: "balance -12.00 is negative: later commissions pay the clawbacks off first". */
  message: string;
}

export interface PayoutPlan {
  batches: BatchPlan[];
  carried: CarriedForward[];
}

const order = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Decides each balance: paid in one batch per (method, currency), or carried forward. `format` renders
 * an amount for the messages. Batches and items come out sorted (method, currency, partner), so a run
 * over the same balances gives the same plan.
 */
export function planPayouts(balances: readonly PartnerBalance[], format: (minor: number, currency: string) => string): PayoutPlan {
  const batches = new Map<string, BatchPlan>();
  const carried: CarriedForward[] = [];
  const sorted = [...balances].sort((a, b) => order(a.method, b.method) || order(a.currency, b.currency) || order(a.partnerId, b.partnerId));
  for (const b of sorted) {
    const balanceMinor = b.commissionMinor + b.clawbackMinor;
    const money = `${format(balanceMinor, b.currency)} ${b.currency}`;
    const carry = (reason: CarryReason, message: string) => carried.push({ partnerId: b.partnerId, currency: b.currency, balanceMinor, reason, message });
    if (b.blocked !== null) {
      carry('blocked', `${money} carried forward: ${b.blocked}`);
    } else if (balanceMinor < 0) {
      carry('negative_balance', `balance ${money} is negative: clawbacks exceed what is payable, so payouts wait until later commissions cover them`);
    } else if (balanceMinor === 0) {
      carry('nothing_owed', `balance ${money}: nothing to pay`);
    } else if (balanceMinor < b.minimumMinor) {
      carry('under_minimum', `balance ${money} is under the minimum payout of ${format(b.minimumMinor, b.currency)} ${b.currency}`);
    } else {
      const key = `${b.method} ${b.currency}`;
      let batch = batches.get(key);
      if (!batch) batches.set(key, (batch = { method: b.method, currency: b.currency, totalMinor: 0, items: [] }));
      batch.items.push({ partnerId: b.partnerId, amountMinor: balanceMinor, commissionMinor: b.commissionMinor, clawbackMinor: b.clawbackMinor, commissionCount: b.commissionCount });
      batch.totalMinor += balanceMinor;
    }
  }
  return { batches: [...batches.values()], carried };
}
