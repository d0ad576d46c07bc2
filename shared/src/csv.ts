/**
 * CSV for files a person opens in a spreadsheet. RFC 4180 quoting, and every text cell that a spreadsheet
 * would read as a formula (starting with =, +, -, @, tab or carriage return) is prefixed with a quote
 * mark, so a partner named =HYPERLINK(...) stays text. Numbers pass as numbers (a negative amount is not
 * a formula).
 */
export type CsvValue = string | number | boolean | null | undefined;

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
  const text = formulaSafe(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function toCsv(rows: readonly (readonly CsvValue[])[]): string {
  return rows.map((row) => row.map(csvCell).join(',')).join('\r\n') + '\r\n';
}
