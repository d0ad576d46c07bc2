/**
 * The per-partner statement as a PDF, drawn from the same text cells as the HTML (statementTable), with
 * pdf-lib's built-in Helvetica so nothing is read from disk. The bytes are a function of the statement
 * alone: pdf-lib's automatic metadata is off, and the dates are the batch's own, so exporting twice gives
 * identical files.
 */
import { PDFDocument, StandardFonts, rgb, type PDFFont, type PDFPage } from 'pdf-lib';
import { statementFileName, statementTable, type Statement } from '@revtrail/shared/commission/index';

const A4: [number, number] = [595.28, 841.89];
const MARGIN = 48;
const ROW = 14;
const SIZE = 9;
/** Date, line, description, on, amount; the last two right-aligned. */
const COLUMNS = [62, 58, 237, 71, 71];
const GREY = rgb(0.45, 0.45, 0.45);

/** The standard fonts encode WinAnsi only: anything else becomes "?" rather than failing the export. */
function encodable(font: PDFFont): (text: string) => string {
  const supported = new Set(font.getCharacterSet());
  return (text) => Array.from(text.replace(/[\r\n\t]+/g, ' '), (ch) => (supported.has(ch.codePointAt(0)!) ? ch : '?')).join('');
}

/** Cuts text to fit `width`, with an ellipsis when it had to. */
function fit(font: PDFFont, text: string, size: number, width: number): string {
  if (font.widthOfTextAtSize(text, size) <= width) return text;
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (font.widthOfTextAtSize(`${text.slice(0, mid)}...`, size) <= width) lo = mid;
    else hi = mid - 1;
  }
  return `${text.slice(0, lo)}...`;
}

/** Breaks text into lines no wider than `width`. */
function wrap(font: PDFFont, text: string, size: number, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    const next = line ? `${line} ${word}` : word;
    if (line && font.widthOfTextAtSize(next, size) > width) {
      lines.push(line);
      line = word;
    } else {
      line = next;
    }
  }
  if (line) lines.push(line);
  return lines;
}

export async function statementPdf(s: Statement): Promise<{ name: string; mediaType: string; bytes: Uint8Array }> {
  const t = statementTable(s);
  const doc = await PDFDocument.create({ updateMetadata: false });
  const when = new Date(s.batch.createdAt);
  doc.setTitle(t.title);
  doc.setAuthor('Revtrail');
  doc.setCreator('Revtrail');
  doc.setProducer('Revtrail');
  doc.setCreationDate(when);
  doc.setModificationDate(when);
  const font = await doc.embedFont(StandardFonts.Helvetica);
  const bold = await doc.embedFont(StandardFonts.HelveticaBold);
  const clean = encodable(font);

  let page: PDFPage = doc.addPage(A4);
  let y = A4[1] - MARGIN;
  const text = (value: string, x: number, opts: { f?: PDFFont; size?: number; width?: number; right?: boolean; color?: ReturnType<typeof rgb> } = {}) => {
    const f = opts.f ?? font;
    const size = opts.size ?? SIZE;
    const shown = opts.width === undefined ? clean(value) : fit(f, clean(value), size, opts.width - 4);
    const dx = opts.right && opts.width !== undefined ? opts.width - 4 - f.widthOfTextAtSize(shown, size) : 0;
    page.drawText(shown, { x: x + dx, y, size, font: f, color: opts.color ?? rgb(0, 0, 0) });
  };
  const tableHeader = () => {
    let x = MARGIN;
    t.header.forEach((h, i) => {
      text(h, x, { f: bold, width: COLUMNS[i]!, right: i >= 3 });
      x += COLUMNS[i]!;
    });
    y -= 4;
    page.drawLine({ start: { x: MARGIN, y }, end: { x: A4[0] - MARGIN, y }, thickness: 0.5, color: GREY });
    y -= ROW - 2;
  };
  const newPageIfNeeded = (space: number, withHeader: boolean) => {
    if (y - space >= MARGIN + ROW) return;
    page = doc.addPage(A4);
    y = A4[1] - MARGIN;
    if (withHeader) tableHeader();
  };

  text(t.title, MARGIN, { f: bold, size: 16 });
  y -= 26;
  for (const [label, value] of t.facts) {
    text(label, MARGIN, { f: bold, width: 80 });
    text(value, MARGIN + 80, { width: A4[0] - 2 * MARGIN - 80 });
    y -= ROW;
  }
  y -= 10;
  tableHeader();
  for (const row of t.rows) {
    newPageIfNeeded(ROW, true);
    let x = MARGIN;
    row.forEach((cell, i) => {
      text(cell, x, { width: COLUMNS[i]!, right: i >= 3 });
      x += COLUMNS[i]!;
    });
    y -= ROW;
  }
  newPageIfNeeded(ROW * (t.totals.length + 3), false);
  page.drawLine({ start: { x: MARGIN, y: y + ROW - 4 }, end: { x: A4[0] - MARGIN, y: y + ROW - 4 }, thickness: 0.5, color: GREY });
  const labelWidth = COLUMNS.slice(0, 4).reduce((a, b) => a + b, 0);
  for (const [label, value] of t.totals) {
    text(label, MARGIN, { f: bold, width: labelWidth, right: true });
    text(value, MARGIN + labelWidth, { f: bold, width: COLUMNS[4]!, right: true });
    y -= ROW;
  }
  y -= 8;
  for (const line of wrap(font, clean(t.footnote), 7, A4[0] - 2 * MARGIN)) {
    text(line, MARGIN, { size: 7, color: GREY });
    y -= 9;
  }

  const pages = doc.getPages();
  pages.forEach((p, i) => {
    p.drawText(clean(`${s.batch.id} - ${s.item.partnerId} - page ${i + 1} of ${pages.length}`), { x: MARGIN, y: MARGIN / 2, size: 7, font, color: GREY });
  });
  const bytes = await doc.save({ useObjectStreams: false });
  return { name: statementFileName(s, 'pdf'), mediaType: 'application/pdf', bytes };
}
