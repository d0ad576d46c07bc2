/**
 * CSV for files a person opens in a spreadsheet. RFC 4180 quoting, and every text cell that a spreadsheet
 * would read as a formula (starting with =, +, -, @, tab or carriage return) is prefixed with a quote
 * mark, so a partner named =HYPERLINK(...) stays text. Numbers pass as numbers (a negative amount is not
 * a formula).
 */
export type CsvValue = string | number | boolean | null | undefined | CsvDecimal;

/**
 * A number written with exactly its digits: money in its currency's decimals ("614.30", "-5.00"), which a
 * JavaScript number would print as 614.3. Only digits, one point and a leading minus: never a formula.
 */
export interface CsvDecimal {
  readonly decimal: string;
}

const DECIMAL = /^-?\d+(?:\.\d+)?$/;

export function csvDecimal(text: string): CsvDecimal {
  if (!DECIMAL.test(text)) throw new RangeError(`not a decimal number: ${text}`);
  return { decimal: text };
}

const FORMULA_START = /^[=+\-@\t\r]/;

/** Text a spreadsheet would read as a formula, made plain text by a leading quote mark (any format a cell may be pasted from). */
export const formulaSafe = (text: string): string => (FORMULA_START.test(text) ? `'${text}` : text);

export function csvCell(value: CsvValue): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new RangeError(`not a finite number: ${value}`);
    return String(value);
  }
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'object') {
    if (!DECIMAL.test(value.decimal)) throw new RangeError(`not a decimal number: ${value.decimal}`);
    return value.decimal;
  }
  const text = formulaSafe(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function toCsv(rows: readonly (readonly CsvValue[])[]): string {
  return rows.map((row) => row.map(csvCell).join(',')).join('\r\n') + '\r\n';
}
