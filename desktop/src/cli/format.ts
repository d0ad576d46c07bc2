import { formatMinor } from '@revtrail/shared';

/** A moment as the CLI prints it: UTC to the second, or "never". */
export const when = (at: number | null): string => (at === null ? 'never' : new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z'));

/**
 * Money as the CLI's tables print it: exactly the currency's decimals, thousands grouped (1,234.50 USD amounts,
 * 1,235 JPY, 1.234 BHD). CSV takes formatMinor's plain digits instead (csvDecimal).
 */
export function moneyText(amountMinor: number, currency: string): string {
  const [whole, fraction] = formatMinor(amountMinor, currency).split('.');
  const grouped = whole!.replace(/\B(?=(\d{3})+$)/g, ',');
  return fraction === undefined ? grouped : `${grouped}.${fraction}`;
}
