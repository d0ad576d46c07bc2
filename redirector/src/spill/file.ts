import { appendFile, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../log';
import type { EventRecord, Store } from '../store/types';
import type { Spill } from './types';

const ACTIVE = 'spill.jsonl';
const REPLAYING_SUFFIX = '.replaying';
const REPLAY_CHUNK = 25;

/**
 * Local spill: an append-only JSON-lines file in the data directory. Replay first renames the file, so
 * clicks spilled during a replay go to a fresh file, and deletes it only once every line is stored.
 */
export class FileSpill implements Spill {
  constructor(
    private readonly dir: string,
    private readonly log: Logger,
  ) {}

  async put(records: EventRecord[]): Promise<void> {
    if (records.length === 0) return;
    await appendFile(join(this.dir, ACTIVE), records.map((r) => JSON.stringify(r)).join('\n') + '\n', { flag: 'a' });
  }

  /** Files waiting to be replayed (an interrupted replay leaves its file behind for the next one). */
  async pending(): Promise<string[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    return names.filter((n) => n === ACTIVE || (n.startsWith('spill-') && n.endsWith(REPLAYING_SUFFIX))).sort();
  }

  /** Moves spilled events into the store. Returns how many were stored; throws when the store fails. */
  async replay(store: Store, now: number): Promise<number> {
    let stored = 0;
    const names = await this.pending();
    if (names.includes(ACTIVE)) {
      await rename(join(this.dir, ACTIVE), join(this.dir, `spill-${now}${REPLAYING_SUFFIX}`));
    }
    for (const name of await this.pending()) {
      if (name === ACTIVE) continue;
      const path = join(this.dir, name);
      const lines = (await readFile(path, 'utf8')).split('\n');
      const records: EventRecord[] = [];
      let corrupt = 0;
      for (const line of lines) {
        if (!line) continue;
        try {
          records.push(JSON.parse(line) as EventRecord);
        } catch {
          corrupt += 1; // a line cut short by a crash mid-append
        }
      }
      for (let i = 0; i < records.length; i += REPLAY_CHUNK) {
        await store.putEvents(records.slice(i, i + REPLAY_CHUNK));
      }
      stored += records.length;
      await unlink(path);
      this.log.info({ file: name, events: records.length, corrupt }, 'spill replayed');
    }
    return stored;
  }
}
