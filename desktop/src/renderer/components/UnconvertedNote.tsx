import type { Unconverted } from '../../core/attribution/reports';
import { formatMoney, plural } from '../format';

/** Money a report could not convert is left out, and said so. */
export function UnconvertedNote({ unconverted, currency }: { unconverted: Unconverted; currency: string }) {
  if (unconverted.rows === 0) return null;
  return (
    <p className="warning">
      Left out: {unconverted.amounts.map((a) => formatMoney(a.amountMinor, a.currency)).join(', ')} ({plural(unconverted.rows, 'payment')}) that have no
      exchange rate to {currency}. Refresh the ECB rates in Settings, or choose another currency.
    </p>
  );
}
