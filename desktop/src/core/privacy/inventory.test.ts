import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrate } from '../db/migrate';
import { GLOSSARY } from './glossary';
import { PERSON_TABLES } from './person-repo';

// docs/data-inventory.md lists every table and column the workspace database holds: a migration adding one it
// does not list fails here, and so does a table the privacy export shows without saying what each field means.
const doc = readFileSync(fileURLToPath(new URL('../../../docs/data-inventory.md', import.meta.url)), 'utf8');

function documented(): Map<string, string[]> {
  const tables = new Map<string, string[]>();
  let current: string[] | null = null;
  for (const line of doc.split('\n')) {
    const heading = /^### `([a-z_0-9]+)`$/.exec(line);
    if (heading) tables.set(heading[1]!, (current = []));
    else if (line.startsWith('## ')) current = null;
    const column = /^\| `([a-z_0-9]+)` \|/.exec(line);
    if (column && current) current.push(column[1]!);
  }
  return tables;
}

function schema(): Map<string, string[]> {
  const db = new Database(':memory:');
  migrate(db);
  const tables = db.prepare<[], { name: string }>(`SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`).all();
  const out = new Map(tables.map(({ name }) => [name, (db.pragma(`table_info(${name})`) as { name: string }[]).map((c) => c.name)]));
  db.close();
  return out;
}

describe('data inventory', () => {
  it('lists every table and column of a freshly migrated workspace database, and nothing that is not there', () => {
    const listed = documented();
    const actual = schema();
    expect([...actual.keys()].filter((t) => !listed.has(t)), 'tables missing from docs/data-inventory.md').toEqual([]);
    expect([...listed.keys()].filter((t) => !actual.has(t)), 'tables in docs/data-inventory.md that no migration makes').toEqual([]);
    for (const [table, columns] of actual) {
      expect([...columns].sort(), `columns of ${table} in docs/data-inventory.md`).toEqual([...listed.get(table)!].sort());
    }
  });

  it('the privacy export says what every column of every table it shows means', () => {
    const actual = schema();
    for (const t of PERSON_TABLES) expect(Object.keys(GLOSSARY[t].fields).sort(), t).toEqual([...actual.get(t)!].sort());
  });
});
