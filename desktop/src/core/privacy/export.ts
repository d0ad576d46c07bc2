import type { ExportedFile } from '../affiliates/payouts';
import { GLOSSARY } from './glossary';
import { PERSON_TABLES, type PersonRows } from './person-repo';

export interface ExportInput {
  workspaceName: string;
  exportedAt: number;
  /** Which kind of identifier the request named. */
  scope: string;
  rows: PersonRows;
  /** What the redirector still holds (its last 90 days), by kind; null when none is connected or it did not answer. */
  cloud: Record<string, number> | null;
}

const stamp = (at: number) => new Date(at).toISOString().slice(0, 10);
const isTime = (column: string) => column === 'at' || column.endsWith('_at');

/** The JSON file: every record, table by table, with the glossary of its fields (GDPR Art. 20: machine-readable). */
function jsonExport(input: ExportInput): string {
  return JSON.stringify(
    {
      format: 'revtrail-personal-data/1',
      exportedAt: new Date(input.exportedAt).toISOString(),
      controller: input.workspaceName,
      requestedBy: input.scope,
      notes: [
        'Times are UTC, in milliseconds since 1970-01-01. Amounts are integers in the minor unit of their currency (cents).',
        'Email addresses are never stored: only a keyed hash of the normalised address.',
      ],
      cloud: input.cloud,
      records: Object.fromEntries(
        PERSON_TABLES.map((t) => [t, { title: GLOSSARY[t].title, about: GLOSSARY[t].about, fields: GLOSSARY[t].fields, items: input.rows[t] }]),
      ),
    },
    null,
    2,
  );
}

const escape = (v: string) => v.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function cell(column: string, value: unknown): string {
  if (value === null || value === undefined) return '<td class="none">—</td>';
  if (isTime(column) && typeof value === 'number') return `<td><time datetime="${new Date(value).toISOString()}">${escape(new Date(value).toISOString().replace('T', ' ').slice(0, 19))} UTC</time></td>`;
  return `<td>${escape(String(value))}</td>`;
}

/** The readable page: the same records as tables, each with what its fields mean (GDPR Art. 15). */
function htmlExport(input: ExportInput): string {
  const sections = PERSON_TABLES.map((t) => {
    const g = GLOSSARY[t];
    const items = input.rows[t];
    const columns = Object.keys(g.fields);
    const table =
      items.length === 0
        ? '<p class="none">None.</p>'
        : `<table><thead><tr>${columns.map((c) => `<th scope="col" title="${escape(g.fields[c]!)}">${escape(c)}</th>`).join('')}</tr></thead><tbody>${items
            .map((row) => `<tr>${columns.map((c) => cell(c, row[c])).join('')}</tr>`)
            .join('')}</tbody></table>`;
    const glossary = `<details><summary>What each field means</summary><dl>${columns.map((c) => `<dt>${escape(c)}</dt><dd>${escape(g.fields[c]!)}</dd>`).join('')}</dl></details>`;
    return `<section id="${t}"><h2>${escape(g.title)} <small>(${items.length})</small></h2><p>${escape(g.about)}</p>${table}${glossary}</section>`;
  }).join('\n');
  const cloud = input.cloud
    ? `<p>Still held by the tracking server (its last days, before they are copied here): ${Object.entries(input.cloud).map(([k, n]) => `${escape(k)} ${n}`).join(', ') || 'nothing'}.</p>`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Your data held by ${escape(input.workspaceName)}</title>
<style>body{font:14px/1.45 system-ui,sans-serif;margin:2rem;max-width:80rem}table{border-collapse:collapse;font-size:12px;display:block;overflow-x:auto}th,td{border:1px solid #ccc;padding:2px 6px;text-align:left;white-space:nowrap}.none{color:#888}dt{font-weight:600;font-family:monospace}dd{margin:0 0 .3rem 1rem}</style>
</head><body>
<h1>Your data held by ${escape(input.workspaceName)}</h1>
<p>Exported ${escape(new Date(input.exportedAt).toISOString())} at your request (found by ${escape(input.scope)}). Email addresses are never stored, only a keyed hash of them. Times are UTC; amounts are in cents (minor units) of their currency.</p>
${cloud}
<nav><ul>${PERSON_TABLES.map((t) => `<li><a href="#${t}">${escape(GLOSSARY[t].title)}</a> (${input.rows[t].length})</li>`).join('')}</ul></nav>
${sections}
</body></html>
`;
}

/** One JSON file and one HTML page per request. */
export function exportFiles(input: ExportInput): ExportedFile[] {
  const base = `revtrail-personal-data-${stamp(input.exportedAt)}`;
  return [
    { name: `${base}.json`, mediaType: 'application/json', text: jsonExport(input) },
    { name: `${base}.html`, mediaType: 'text/html', text: htmlExport(input) },
  ];
}
