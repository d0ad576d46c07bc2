import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { isPlainObject } from '@revtrail/shared';
import { readEventRecord } from './journal/record';
import { silentLogger } from './log';
import { DynamoStore } from './store/dynamo';
import { ErasureFilter, erasureFiltered } from './store/erasures';
import type { EventRecord } from './store/types';

const USAGE = `Usage: npm run -s replay-log -w redirector -- --table <DynamoDB table> [--retention-days 90] [log file ...]

Puts the events the redirector kept in its log (lines with "spill": [...], written when neither the table
nor the spill queue took them) into the table. Reads the files given, or standard input. Events already in
the table are skipped, so running it twice is harmless; events of people erased since are dropped. AWS
credentials and region come from the usual AWS environment (AWS_PROFILE, AWS_REGION); see docs/deploy.md
for fetching the lines from CloudWatch.`;

const CHUNK = 25;

export interface LogReplay {
  /** Log lines that held events. */
  lines: number;
  events: number;
  written: number;
  /** Events that were in the table already. */
  present: number;
  /** Events of people erased since, dropped. */
  erased: number;
  /** 1-based numbers of lines that mention a spill but could not be read, with the reason. */
  unreadable: { line: number; problem: string }[];
}

/**
 * The events of one log line, or null for a line that keeps none. The line may be pino's JSON as the
 * function wrote it, behind a timestamp (`aws logs tail`, exports) or nested in Lambda's JSON log format.
 */
export function eventsOfLogLine(line: string): EventRecord[] | null {
  const at = line.indexOf('{');
  if (at === -1 || !line.includes('"spill"')) return null;
  const spill = spillOf(JSON.parse(line.slice(at)));
  if (spill === null) return null;
  return spill.map((v, i) => {
    const r = readEventRecord(v);
    if (!r.ok) throw new Error(`event ${i + 1}: ${r.problem}`);
    return r.record;
  });
}

function spillOf(value: unknown): unknown[] | null {
  if (typeof value === 'string') {
    const at = value.indexOf('{');
    return at === -1 ? null : spillOf(JSON.parse(value.slice(at)));
  }
  if (!isPlainObject(value)) return null;
  if (Array.isArray(value.spill)) return value.spill;
  // Lambda's JSON log format keeps what the function printed under `message` (or `record`).
  return spillOf(value.message ?? value.record ?? null);
}

/** Reads log lines and puts their events in the store, skipping those it has and those of erased people. */
export async function replayLogLines(lines: AsyncIterable<string> | Iterable<string>, raw: DynamoStore): Promise<LogReplay> {
  const result: LogReplay = { lines: 0, events: 0, written: 0, present: 0, erased: 0, unreadable: [] };
  const erasures = new ErasureFilter({ store: raw, log: silentLogger });
  const store = erasureFiltered(raw, erasures);
  let chunk: EventRecord[] = [];
  const put = async () => {
    const { written, present } = await store.putEventsOnce(chunk);
    result.written += written;
    result.present += present;
    chunk = [];
  };
  let n = 0;
  for await (const line of lines) {
    n += 1;
    let events: EventRecord[] | null;
    try {
      events = eventsOfLogLine(line);
    } catch (e) {
      result.unreadable.push({ line: n, problem: (e as Error).message });
      continue;
    }
    if (events === null) continue;
    result.lines += 1;
    result.events += events.length;
    chunk.push(...events);
    if (chunk.length >= CHUNK) await put();
  }
  if (chunk.length > 0) await put();
  result.erased = erasures.dropped;
  return result;
}

async function* inputLines(files: string[]): AsyncGenerator<string> {
  const streams = files.length > 0 ? files.map((f) => createReadStream(f)) : [process.stdin];
  for (const input of streams) yield* createInterface({ input, crlfDelay: Infinity });
}

async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseArgs<{ options: { table: { type: 'string' }; 'retention-days': { type: 'string' }; help: { type: 'boolean'; short: 'h' } }; allowPositionals: true }>>;
  try {
    parsed = parseArgs({
      args: argv,
      options: { table: { type: 'string' }, 'retention-days': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
    });
  } catch (e) {
    console.error(`${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const retentionDays = Number(values['retention-days'] ?? 90);
  if (!values.table || !Number.isInteger(retentionDays) || retentionDays < 1) {
    console.error(`${values.table ? '--retention-days must be a whole number of days' : '--table is required'}\n\n${USAGE}`);
    return 2;
  }
  const store = new DynamoStore({ tableName: values.table, retentionDays });
  const r = await replayLogLines(inputLines(positionals), store);
  console.log(`${r.events} events in ${r.lines} log lines: ${r.written} written to ${values.table}, ${r.present} were there already, ${r.erased} of erased people dropped.`);
  for (const u of r.unreadable) console.error(`line ${u.line} mentions a spill but could not be read (${u.problem}): its events are not in the table.`);
  return r.unreadable.length > 0 ? 1 : 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error('replay-log failed:', (e as Error).message);
      process.exit(1);
    },
  );
}
