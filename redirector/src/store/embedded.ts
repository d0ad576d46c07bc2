import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import dynalite from 'dynalite';
import dynaliteDb, { type DynaliteStore } from 'dynalite/db/index.js';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { serveIndexUpdates } from './dynalite-indexes';

/**
 * The embedded DynamoDB-compatible store: dynalite (LevelDB on disk, or memory) served in this process on
 * 127.0.0.1, spoken to by the same AWS SDK code as production.
 */
export interface EmbeddedDynamo {
  endpoint: string;
  port: number;
  client(): DynamoDBClient;
  /**
   * Rewrites the store's files so that nothing of the items deleted so far is left in them: LevelDB keeps a
   * deleted item's bytes in its write-ahead log and its tables until a compaction rewrites them, which an
   * erasure cannot wait for. Compacting the whole key range first flushes the memtable into a table (the old
   * log file is deleted), then merges every level, dropping deleted and overwritten entries, and resolves once
   * the files it replaced are gone. A no-op for the in-memory store.
   */
  compact(): Promise<void>;
  close(): Promise<void>;
}

/** LevelDB's levels (config::kNumLevels). */
const LEVELS = [0, 1, 2, 3, 4, 5, 6];

export interface EmbeddedDynamoOptions {
  /** LevelDB directory; omit for an in-memory store. */
  path?: string;
  /** Fixed port (e.g. to come back on the same endpoint after a restart); 0 or omitted: any free port. */
  port?: number;
}

/** buffer-crc32's export as dynalite holds it: `unsigned(input, previous?)` is what it calls. */
interface BufferCrc32 {
  unsigned: (input: unknown, previous?: unknown) => number;
  nativeUnsigned?: true;
}

/**
 * dynalite stamps every answer with its CRC32 (the x-amz-crc32 header) through buffer-crc32, a table lookup a
 * byte at a time in JavaScript: 6.8 ms for a feed page of 3,300 clicks (2.4 MB of JSON), more than the page's
 * JSON.stringify (4.6 ms), and ~2-4 s of the redirector's CPU over a 1,000,000-click pull (bench:sync). zlib's
 * crc32 gives the same number natively (test/embedded-checksum.test.ts compares them, and the header with the
 * body). Swapped in the very module dynalite loaded (its main module's child: nothing is required by name
 * here), for a string or a buffer without a previous value, the only call dynalite makes; anything else still
 * goes to the original. Returns whether it is in place (false if dynalite's internals changed: then only slower).
 */
export function useNativeChecksums(): boolean {
  const require = createRequire(import.meta.url);
  const main = require.cache[require.resolve('dynalite')];
  const child = main?.children.find((m) => /[\\/]buffer-crc32[\\/]/.test(m.id));
  const module = child?.exports as BufferCrc32 | undefined;
  if (typeof module?.unsigned !== 'function') return false;
  if (module.nativeUnsigned) return true;
  const original = module.unsigned;
  module.unsigned = (input, previous) =>
    previous === undefined && (typeof input === 'string' || Buffer.isBuffer(input)) ? crc32(input) : original(input, previous);
  module.nativeUnsigned = true;
  return true;
}

export async function startEmbeddedDynamo(opts: EmbeddedDynamoOptions = {}): Promise<EmbeddedDynamo> {
  if (opts.path) mkdirSync(opts.path, { recursive: true });
  useNativeChecksums();
  // dynalite keeps its LevelDB handle to itself: its store is taken as dynalite() creates it (synchronously,
  // through the module's exported create) so that compact() can reach the database.
  const create = dynaliteDb.create;
  let store: DynaliteStore | undefined;
  dynaliteDb.create = (options) => (store = create(options));
  let server: Server;
  try {
    server = dynalite({ path: opts.path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  } finally {
    dynaliteDb.create = create;
  }
  if (!store) throw new Error('dynalite created no store: its internals changed (see store/embedded.ts)');
  const db = store.db;
  closeIteratorsOnDestroy(db);
  // One reopen at a time (compactions may overlap).
  let reopening: Promise<void> | null = null;
  const reopenOnce = (dir: string) => (reopening ??= reopen(db, dir).finally(() => (reopening = null)));
  answerStorageErrors(db);
  // dynalite ignores an UpdateTable that adds or removes an index: a table made by an earlier version needs it.
  serveIndexUpdates(server, store);
  server.listen(opts.port ?? 0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    port,
    client: () =>
      new DynamoDBClient({
        endpoint,
        region: 'local',
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        maxAttempts: 2,
      }),
    async compact() {
      if (!opts.path || !db.compactRange || !db.getProperty) return;
      const dir = opts.path;
      const { compactRange, getProperty } = { compactRange: db.compactRange.bind(db), getProperty: db.getProperty.bind(db) };
      const count = (l: number) => Number(getProperty(`leveldb.num-files-at-level${l}`));
      // A deletion marker keeps the deleted key (an index key holds a visitor id, hex-encoded) until it is
      // compacted into the deepest level holding that key, and a table replaced by a compaction stays on disk
      // while a running query still reads it. One CompactRange is not always enough: it picks the levels to
      // compact before it flushes the memtable, whose table can land up to level 2, below them. So again until
      // every table sits in one level and every table file on disk is one of them.
      // Opened again first, so that what the erasure wrote is recovered from LevelDB's log into a level-0
      // table, which CompactRange compacts down through every level. Flushed by CompactRange itself, the same
      // writes can land at level 2 when nothing there overlaps them, below every level it compacts, keeping
      // the deleted values beside their deletion markers: the first erasure of a session in a store holding
      // little else kept them (test/embedded-compact.test.ts). It also makes the tables uncompressed from the
      // first compaction of a session on (dynalite opens LevelDB with snappy).
      await reopenOnce(dir);
      let state = '';
      for (let round = 0; round < 4; round++) {
        // Every key dynalite writes starts with a printable prefix ('table~', 'item-<table>~', 'index-...'):
        // from the empty string to U+FFFF covers them all.
        await compactRange('', '\uffff');
        const live = LEVELS.map(count);
        const onDisk = readdirSync(dir).filter((f) => f.endsWith('.ldb') || f.endsWith('.sst')).length;
        if (live.filter((n) => n > 0).length <= 1 && onDisk === live.reduce((a, b) => a + b, 0)) {
          await reopenOnce(dir);
          return;
        }
        state = `tables per level ${live.join('/')}, ${onDisk} table files on disk`;
      }
      throw new Error(`the embedded store kept files a compaction replaced (${state}); the next erasure or purge compacts again`);
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections?.();
        server.close((err?: Error) => (err ? reject(err) : resolve()));
      }),
  };
}

/**
 * Closes and opens the database again after a compaction, for the files a compaction does not
 * rewrite: the MANIFEST, which logs every table's first and last key (an index key can hold a visitor id) as
 * tables come and go, is written anew from the live tables only when the database opens; the previous
 * session's info log (LOG.old, compaction notes that can quote a key) is removed. Requests meanwhile wait for the open, or fail once and are retried
 * by their client (the SDK, the journal's ingest, the desktop's sync).
 */
async function reopen(db: DynaliteStore['db'], dir: string): Promise<void> {
  // dynalite's own close() would shut its request handling for good; LevelDB's is kept beside it.
  const close = db.close._original ?? db.close;
  await db.open();
  await close.call(db);
  // Tables uncompressed (LevelDB's default is snappy): what they hold is what they show, so a byte scan of
  // the folder (the privacy tests', anyone's) proves an erasure; a compressed block could hide an identifier.
  await db.open({ compression: false });
  rmSync(join(dir, 'LOG.old'), { force: true });
}

/**
 * dynalite turns LevelDB iterators into streams whose destroy() closes the iterator through its `return()`,
 * which abstract-level's iterators do not have: every query left its iterator open, holding a snapshot (deleted
 * items are kept for it) and the tables it read (never deleted) for as long as the process ran. Each iterator
 * gets the `return()` that closes it, so a stream read to its end or abandoned at a query's Limit lets go.
 */
function closeIteratorsOnDestroy(db: DynaliteStore['db']): void {
  for (const method of ['keys', 'values', 'iterator'] as const) {
    const open = db[method]?.bind(db);
    if (!open) continue;
    db[method] = (options?: object) => {
      const it = open(options);
      it.return ??= () => it.close();
      // A read of an iterator the store closed under it (a reopen) throws at once, inside dynalite's stream,
      // which would end the process: it becomes a rejected read, answered 500.
      const next = it.next.bind(it);
      it.next = () => {
        try {
          return next().catch((e: unknown) => Promise.reject(asServerError(e)));
        } catch (e) {
          return Promise.reject(asServerError(e));
        }
      };
      return it;
    };
  }
}

/**
 * dynalite throws an error without an HTTP status from inside its request callback, which ends the process:
 * a full disk (LevelDB's "IO error: ... No space left on device") took the local redirector down, every
 * redirect with it, and so did a request arriving while the store reopened ("Database is closed"). Such
 * failures get DynamoDB's 500 InternalServerError instead, so the request fails and its caller (the journal's
 * ingest, the desktop's sync) tries again later. (LevelDB refuses writes after an IO error until it is opened
 * again, which a restart does; reopening it while the disk is still full risks its MANIFEST, so it is not
 * done here.)
 */
function answerStorageErrors(db: DynaliteStore['db']): void {
  const level = db as unknown as Record<string, unknown>;
  for (const method of ['put', 'get', 'del', 'batch', 'getMany']) {
    const original = level[method];
    if (typeof original !== 'function') continue;
    level[method] = (...args: unknown[]) => {
      const callback = typeof args.at(-1) === 'function' ? (args.pop() as (err: unknown, ...rest: unknown[]) => void) : null;
      const fail = asServerError;
      if (callback) return (original as (...a: unknown[]) => unknown).call(db, ...args, (err: unknown, ...rest: unknown[]) => callback(err ? fail(err) : err, ...rest));
      return Promise.resolve((original as (...a: unknown[]) => unknown).apply(db, args)).catch((e: unknown) => {
        throw fail(e);
      });
    };
  }
}

function asServerError(e: unknown): unknown {
  const err = e as Error & { statusCode?: number; body?: unknown };
  if (!(err instanceof Error) || err.statusCode !== undefined) return e;
  err.statusCode = 500;
  err.body = { __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: `The embedded store could not read or write its files: ${err.message}` };
  return err;
}
