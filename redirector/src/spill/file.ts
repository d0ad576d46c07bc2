import { appendFile, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../log';
import type { EventRecord, Store } from '../store/types';
import type { Spill } from './types';

const ACTIVE = 'spill.jsonl';
const REPLAYING_SUFFIX = '.replaying';
const REPLAY_CHUNK = 25;

/**
 * The local journal and spill: an append-only JSON-lines file in the data directory. Events given in one
 * event-loop turn are appended together, and appends and rotations run one after another. Replay first
 * renames the file, so events written during a replay go to a fresh file, and deletes it only once every
 * line is stored. Delivery is at least once: a replay cut short is done again whole.
 */
export class FileSpill implements Spill {
  private lines: string[] = [];
  private chain: Promise<void> = Promise.resolve();
  private nextWrite: Promise<void> | null = null;

  constructor(
    private readonly dir: string,
    private readonly log: Logger,
  ) {}

  /** Resolves once the records are in the file. */
  put(records: EventRecord[]): Promise<void> {
    for (const r of records) this.lines.push(JSON.stringify(r));
    this.nextWrite ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
      const data = this.lines.join('\n') + '\n';
      this.lines = [];
      this.nextWrite = null;
      return this.serial(() => appendFile(join(this.dir, ACTIVE), data));
    });
    return this.nextWrite;
  }

  /** Resolves once everything given so far is in the file. */
  async written(): Promise<void> {
    while (this.nextWrite) await this.nextWrite;
    await this.chain;
  }

  private serial(step: () => Promise<void>): Promise<void> {
    const run = this.chain.then(step);
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Files waiting to be replayed (an interrupted replay leaves its file behind for the next one). */
  async pending(): Promise<string[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    return names.filter((n) => n === ACTIVE || (n.startsWith('spill-') && n.endsWith(REPLAYING_SUFFIX))).sort();
  }

  /**
   * Moves journaled events into the store, `pace` awaited between chunks so a busy server keeps serving
   * first. Returns how many were stored; throws when the store fails (the file stays for the next try).
   */
  async replay(store: Store, now: number, pace: () => Promise<void> = async () => undefined): Promise<number> {
    let stored = 0;
    await this.written();
    await this.serial(async () => {
      const names = await this.pending();
      if (names.includes(ACTIVE)) await rename(join(this.dir, ACTIVE), join(this.dir, `spill-${now}${REPLAYING_SUFFIX}`));
    });
    for (const name of await this.pending()) {
      if (name === ACTIVE) continue;
      const path = join(this.dir, name);
      const records: EventRecord[] = [];
      let corrupt = 0;
      for (const line of (await readFile(path, 'utf8')).split('\n')) {
        if (!line) continue;
        try {
          records.push(JSON.parse(line) as EventRecord);
        } catch {
          corrupt += 1; // a line cut short by a crash mid-append
        }
      }
      for (let i = 0; i < records.length; i += REPLAY_CHUNK) {
        await store.putEvents(records.slice(i, i + REPLAY_CHUNK));
        await pace();
      }
      stored += records.length;
      await unlink(path);
      if (corrupt > 0) this.log.warn({ file: name, events: records.length, corrupt }, 'journal lines cut short by a crash were skipped');
    }
    return stored;
  }
}
