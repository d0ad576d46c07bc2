import { closeSync, fstatSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import { appendFile, mkdir, open, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isPlainObject } from '@revtrail/shared';
import type { Logger } from '../log';
import type { EventRecord, Store } from '../store/types';
import { readLines } from './lines';
import { readEventRecord } from './record';

/** `journal-<sequence number of its first event, 16 digits>.jsonl`: names sort in write order. */
const SEGMENT_RE = /^journal-(\d{16})\.jsonl$/;
/** The journal before sequence numbers (`<data-dir>/spill/`): read once, then deleted. */
const LEGACY_RE = /^spill(?:-\d+\.replaying|\.jsonl)$/;
const HEAD = 'journal.head';
const PROGRESS = 'journal.progress';
const QUARANTINE = 'quarantine.jsonl';
const SEGMENT_MAX_BYTES = 64 * 1024 * 1024;
/** Events per store write while ingesting, and between two saves of the progress. */
const INGEST_CHUNK = 100;
/** A real line is 1-2 KB; beyond this it is garbage, set aside without being held in memory. */
const LINE_MAX_BYTES = 256 * 1024;
const QUARANTINED_TEXT_MAX = 4096;
const WARN_EVERY_MS = 60_000;

const segmentName = (first: number) => `journal-${String(first).padStart(16, '0')}.jsonl`;
const headText = (seq: number) => `${String(seq).padStart(16, '0')}\n`;

export interface JournalStats {
  /** Why events are not durable right now (the disk refuses writes), or null. */
  degraded: string | null;
  /** Events written to the journal by this process. */
  appended: number;
  /** Events moved from the journal into the store by this process. */
  ingested: number;
  /** Events in journal files not yet stored, set aside or counted lost. */
  queued: number;
  /** Events in memory, not yet in a file: the batch being written, or everything since the disk refused. */
  buffered: number;
  /** Events let go because the buffer was full while the disk refused writes (this process). */
  dropped: number;
  /** Writes made (this process): far fewer than events, since one write carries every request waiting. */
  writes: number;
  /** Writes the disk refused (this process). */
  writeFailures: number;
  lastWriteError: string | null;
  /** Lines set aside in quarantine.jsonl because they were not events (all time). */
  quarantined: number;
  /** Events missing from the journal, by their sequence numbers: truncated or overwritten (all time). */
  lost: number;
}

export interface JournalOptions {
  dir: string;
  /** Where the journal of earlier versions lived; its files are ingested first. */
  legacyDir?: string;
  log: Logger;
  now?: () => number;
  /** Events held in memory while the disk refuses writes; more are dropped and counted. */
  bufferMax?: number;
  retryMs?: number;
}

interface Segment {
  name: string;
  path: string;
  first: number;
  legacy: boolean;
}

interface Progress {
  /** The segment being read (a legacy one as `legacy/<name>`), the byte after its last handled line. */
  segment: string;
  offset: number;
  /** Every event up to this sequence number is stored, set aside or counted lost. */
  seq: number;
}

interface Batch {
  text: string;
  first: number;
  last: number;
  events: number;
}

interface Active {
  name: string;
  path: string;
  first: number;
  fd: number | null;
  size: number;
  /** A failed write may have left part of a line that could not be cut off: the next write ends it first. */
  torn: boolean;
}

type Entry =
  | { reason: string; line: string | null; offset: number }
  | { reason: 'missing'; fromSeq: number; toSeq: number; lost: number; offset: number }
  | { reason: string; event: EventRecord };

/**
 * The local server's journal: every event is a line `{"seq":n,"kind":...,"item":...}` in an append-only
 * segment file, numbered without gaps, so a reader knows exactly how many events a damaged file held.
 * - Group commit: the events of the requests waiting at one moment go out in one write, and each
 *   request is answered when that write has returned (the data is in the OS, see docs/table.md).
 * - When the disk refuses writes, requests are still answered; the events wait in a bounded buffer and
 *   are written when it takes writes again. The stats say so.
 * - Ingest streams sealed segments into the store in chunks, saving its progress after each one, so a
 *   failure or restart resumes at the chunk that failed. Lines that are not events go to
 *   quarantine.jsonl; gaps in the sequence are counted and noted there.
 */
export class Journal {
  private readonly dir: string;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly bufferMax: number;
  private readonly retryMs: number;

  private seq = 0;
  private written = 0;
  private queue: string[] = [];
  private unwritten: Batch | null = null;
  private waiters: (() => void)[] = [];
  private sealWaiters: (() => void)[] = [];
  private active: Active | null = null;
  private head: number | null = null;
  private writing = false;
  /** The running (or last) write loop, for close to wait on. */
  private writeLoop: Promise<void> = Promise.resolve();
  private scheduled = false;
  private failure: Error | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private lastWarnAt = Number.NEGATIVE_INFINITY;

  private progress: Progress = { segment: '', offset: 0, seq: 0 };
  /** quarantine.jsonl is appended to by ingest and rewritten by scrub: one at a time. */
  private quarantineTurn: Promise<unknown> = Promise.resolve();
  /** The next chunk may already be in the store (first after a start, or retried after a failure). */
  private uncertain = true;
  private readonly counts = { appended: 0, ingested: 0, dropped: 0, writes: 0, writeFailures: 0, quarantined: 0, lost: 0 };

  private constructor(private readonly opts: JournalOptions) {
    this.dir = opts.dir;
    this.log = opts.log;
    this.now = opts.now ?? Date.now;
    this.bufferMax = opts.bufferMax ?? 20_000;
    this.retryMs = opts.retryMs ?? 1000;
  }

  /** Opens the journal in `dir`, resuming its numbering, progress and counts. */
  static async open(opts: JournalOptions): Promise<Journal> {
    const j = new Journal(opts);
    await j.recover();
    return j;
  }

  get stats(): JournalStats {
    return {
      degraded: this.failure ? `journal writes failing: ${this.failure.message}` : null,
      appended: this.counts.appended,
      ingested: this.counts.ingested,
      queued: Math.max(0, this.written - this.progress.seq),
      buffered: this.buffered,
      dropped: this.counts.dropped,
      writes: this.counts.writes,
      writeFailures: this.counts.writeFailures,
      lastWriteError: this.failure?.message ?? null,
      quarantined: this.counts.quarantined,
      lost: this.counts.lost,
    };
  }

  private get buffered(): number {
    return this.queue.length + (this.unwritten?.events ?? 0);
  }

  /**
   * Resolves once the records are written to the journal file, or at once while the disk refuses writes
   * (the records then wait in memory; beyond the bound they are dropped and counted).
   */
  append(records: EventRecord[]): Promise<void> {
    if (this.failure) {
      const room = Math.max(0, this.bufferMax - this.buffered);
      for (const r of records.slice(0, room)) this.queue.push(JSON.stringify(r));
      this.counts.dropped += Math.max(0, records.length - room);
      return Promise.resolve();
    }
    for (const r of records) this.queue.push(JSON.stringify(r));
    return new Promise<void>((resolve) => {
      this.waiters.push(resolve);
      this.schedule();
    });
  }

  /** Resolves once everything appended so far is in a file (or the disk refuses writes). */
  async flushed(): Promise<void> {
    if (this.failure || (!this.writing && !this.scheduled && this.queue.length === 0 && !this.unwritten)) return;
    await new Promise<void>((resolve) => {
      this.waiters.push(resolve);
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.writing) return;
    this.scheduled = true;
    // One turn of the event loop gathers every request parsed in it into the batch.
    setImmediate(() => {
      this.scheduled = false;
      this.drain();
    });
  }

  private drain(): void {
    if (this.writing) return;
    // Cleared at the loop's very end, not a promise turn later: an append arriving in between must start a new loop.
    this.writing = true;
    this.writeLoop = this.writeAll().finally(() => undefined);
  }

  private async writeAll(): Promise<void> {
    try {
      await this.writeQueued();
    } finally {
      this.writing = false;
      // Whatever arrived after the loop last looked (a flush, a seal, an append) starts the next loop.
      if (this.sealWaiters.length > 0 || (!this.failure && (this.queue.length > 0 || this.waiters.length > 0))) this.schedule();
    }
  }

  private async writeQueued(): Promise<void> {
    while (this.unwritten || this.queue.length > 0) {
      const batch = this.unwritten ?? this.nextBatch();
      const waiting = this.waiters.splice(0);
      try {
        this.write(batch);
      } catch (e) {
        this.unwritten = batch;
        this.writeFailed(e as Error);
        for (const w of [...waiting, ...this.waiters.splice(0)]) w();
        break;
      }
      this.unwritten = null;
      this.written = batch.last;
      this.counts.appended += batch.events;
      if (this.failure) this.writesWorkAgain();
      for (const w of waiting) w();
    }
    if (!this.unwritten && this.queue.length === 0) for (const w of this.waiters.splice(0)) w();
    if (this.sealWaiters.length > 0) {
      // Only a segment holding events is sealed: the next one then starts at a higher number, never on its name.
      if (this.activeHasEvents()) await this.closeActive();
      for (const w of this.sealWaiters.splice(0)) w();
    }
  }

  private nextBatch(): Batch {
    const lines = this.queue.splice(0);
    const first = this.seq + 1;
    let text = '';
    for (const line of lines) text += `{"seq":${++this.seq},${line.slice(1)}\n`;
    return { text, first, last: this.seq, events: lines.length };
  }

  /**
   * Synchronous: a write into the page cache costs the loop ~15 µs, against ~50 µs of CPU (loop and thread
   * pool) for the same write through fs/promises, and the requests waiting on it are answered in the same
   * turn. It blocks the loop only as long as the disk holds the write, while the redirects wait on it anyway.
   */
  private write(batch: Batch): void {
    if (!this.active) {
      const name = segmentName(batch.first);
      this.active = { name, path: join(this.dir, name), first: batch.first, fd: null, size: 0, torn: false };
    }
    const a = this.active;
    if (a.fd === null) {
      a.fd = openSync(a.path, 'a');
      a.size = fstatSync(a.fd).size;
    }
    const data = Buffer.from(a.torn ? `\n${batch.text}` : batch.text);
    try {
      for (let off = 0; off < data.length; ) off += writeSync(a.fd, data, off);
    } catch (e) {
      this.cutBack(a);
      throw e;
    }
    a.size += data.length;
    a.torn = false;
    this.counts.writes += 1;
    // The head outlives the segments: after a restart it tells how many events a truncated segment held.
    if (this.head !== null) {
      try {
        writeSync(this.head, headText(batch.last), 0);
      } catch {
        // the head only helps count a truncated segment's losses; the events are in the segment
      }
    }
    if (a.size >= SEGMENT_MAX_BYTES) this.closeActiveNow();
  }

  /** After a failed write: cut the file back to its last whole line, or mark it so the next write ends the torn one. */
  private cutBack(a: Active): void {
    try {
      ftruncateSync(a.fd!, a.size);
    } catch {
      a.torn = true;
      // Opened again on the next attempt: a file that could not be cut may be fine to write once space returns.
      closeQuietly(a.fd);
      a.fd = null;
    }
  }

  private closeActiveNow(): void {
    const a = this.active;
    this.active = null;
    closeQuietly(a?.fd ?? null);
  }

  private async closeActive(): Promise<void> {
    this.closeActiveNow();
  }

  private activeHasEvents(): boolean {
    return this.active !== null && this.written >= this.active.first;
  }

  private writeFailed(err: Error): void {
    const first = this.failure === null;
    this.failure = err;
    this.counts.writeFailures += 1;
    this.retryTimer ??= setTimeout(() => {
      this.retryTimer = null;
      this.schedule();
    }, this.retryMs);
    this.retryTimer.unref();
    if (first || this.now() - this.lastWarnAt >= WARN_EVERY_MS) {
      this.lastWarnAt = this.now();
      this.log.error(
        { err: err.message, buffered: this.buffered, dropped: this.counts.dropped, bufferMax: this.bufferMax },
        'journal writes failing (disk full?): redirects go on, events wait in memory until the disk takes them; free space in the data directory',
      );
    }
  }

  private writesWorkAgain(): void {
    this.log.warn({ writeFailures: this.counts.writeFailures, dropped: this.counts.dropped }, 'journal writes work again: the waiting events are on disk');
    this.failure = null;
  }

  /**
   * Closes the files. Events that never reached the disk are written to the log, in the shape
   * `npm run replay-log` reads, and counted as dropped.
   */
  async close(): Promise<void> {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await this.flushed();
    await this.writeLoop;
    const left = [...(this.unwritten?.text.split('\n').filter(Boolean) ?? []), ...this.queue].map((l) => {
      const { seq: _seq, ...record } = JSON.parse(l) as EventRecord & { seq?: number };
      return record as EventRecord;
    });
    if (left.length > 0) {
      for (let i = 0; i < left.length; i += INGEST_CHUNK) {
        this.log.error({ spill: left.slice(i, i + INGEST_CHUNK) }, 'events the journal could not write, kept in this log line: replay them with npm run replay-log');
      }
      this.counts.dropped += left.length;
      this.queue = [];
      this.unwritten = null;
    }
    await this.closeActive();
    closeQuietly(this.head);
    this.head = null;
  }

  /** Segments and legacy files holding events not yet ingested. */
  async pending(): Promise<string[]> {
    const names = (await this.sealedSegments()).map((s) => s.name);
    if (this.activeHasEvents()) names.push(this.active!.name);
    return names;
  }

  private async sealedSegments(): Promise<Segment[]> {
    const legacyDir = this.opts.legacyDir;
    const legacy = legacyDir ? (await readdir(legacyDir).catch(() => [] as string[])).filter((n) => LEGACY_RE.test(n)).sort() : [];
    const segments = (await readdir(this.dir))
      .filter((n) => SEGMENT_RE.test(n) && n !== this.active?.name)
      .sort()
      .map((name) => ({ name, path: join(this.dir, name), first: Number(SEGMENT_RE.exec(name)![1]), legacy: false }));
    return [...legacy.map((n) => ({ name: `legacy/${n}`, path: join(legacyDir!, n), first: 0, legacy: true })), ...segments];
  }

  private async recover(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const headPath = join(this.dir, HEAD);
    const head = Number.parseInt(await readFile(headPath, 'utf8').catch(() => '0'), 10) || 0;
    const saved = await readFile(join(this.dir, PROGRESS), 'utf8').then(
      (t) => JSON.parse(t) as Progress,
      () => null,
    );
    if (saved && typeof saved.segment === 'string' && Number.isSafeInteger(saved.offset) && Number.isSafeInteger(saved.seq)) this.progress = saved;
    const last = (await this.sealedSegments()).filter((s) => !s.legacy).at(-1);
    const tail = last ? await lastSeqIn(last.path) : 0;
    this.seq = this.written = Math.max(head, tail, last ? last.first - 1 : 0, this.progress.seq);
    const cutBelowProgress = last !== undefined && this.progress.segment === last.name && (await stat(last.path)).size < this.progress.offset;
    if (last && !cutBelowProgress) {
      // The previous run's last segment goes on taking events: a new one would start on its name when it holds none.
      // (Not one cut shorter than the progress: new lines there would sit before where ingest resumes.)
      const size = (await stat(last.path)).size;
      const torn = size > 0 && !(await endsWithNewline(last.path, size));
      this.active = { name: last.name, path: last.path, first: last.first, fd: null, size, torn };
    }
    await writeFile(headPath, headText(this.written));
    this.head = openSync(headPath, 'r+');
    await this.countQuarantine();
  }

  private async countQuarantine(): Promise<void> {
    const path = join(this.dir, QUARANTINE);
    const size = await stat(path).then(
      (s) => s.size,
      () => null,
    );
    if (size === null) return;
    const seen = new Set<string>();
    for await (const line of readLines(path, 0, size, LINE_MAX_BYTES)) {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line.text ?? '') as Record<string, unknown>;
      } catch {
        continue;
      }
      // A crash between noting an entry and saving the progress notes it again on the next run: count it once.
      const key = `${String(entry.segment)}:${String(entry.offset ?? (entry.event as EventRecord | undefined)?.item.id)}:${String(entry.fromSeq)}`;
      if (seen.has(key)) continue;
      seen.add(key);
      if (typeof entry.lost === 'number') this.counts.lost += entry.lost;
      else this.counts.quarantined += 1;
    }
  }

  /**
   * Moves sealed segments into the store (sealing the current one when nothing else waits), `pace`
   * awaited between chunks. Returns how many events were stored; throws when the store fails, after
   * saving how far it got.
   */
  async ingest(store: Store, pace: () => Promise<void>): Promise<number> {
    let stored = 0;
    // The current segment is sealed once per call, when all before it are stored: steady load cannot keep a call going.
    let sealed = false;
    for (;;) {
      const segments = await this.sealedSegments();
      if (segments.length === 0) {
        if (sealed || !this.activeHasEvents()) return stored;
        sealed = true;
        await new Promise<void>((resolve) => {
          this.sealWaiters.push(resolve);
          this.schedule();
        });
        continue;
      }
      for (let i = 0; i < segments.length; i++) {
        const seg = segments[i]!;
        // A segment ends just before the next one starts; the last sealed one ends where the writer stands.
        const next = segments.slice(i + 1).find((s) => !s.legacy);
        const end = seg.legacy ? null : next ? next.first - 1 : this.active ? this.active.first - 1 : this.written;
        stored += await this.ingestSegment(seg, end, store, pace);
      }
    }
  }

  private async ingestSegment(seg: Segment, end: number | null, store: Store, pace: () => Promise<void>): Promise<number> {
    let expected = this.progress.seq + 1;
    let offset = 0;
    if (this.progress.segment === seg.name) offset = this.progress.offset;
    else if (!seg.legacy && seg.first > expected) {
      await this.noteMissing(seg.name, 0, expected, seg.first - 1);
      expected = seg.first;
    }
    if (seg.legacy) this.uncertain = true; // earlier versions stored a file again whole after any failure
    const size = (await stat(seg.path)).size;
    let stored = 0;
    let chunk: EventRecord[] = [];
    let chunkEnd = offset;

    const flush = async () => {
      if (chunk.length === 0) return;
      stored += await this.store(store, chunk, seg.name);
      await this.saveProgress(seg.name, chunkEnd, seg.legacy ? this.progress.seq : expected - 1);
      chunk = [];
      await pace();
    };

    for await (const line of readLines(seg.path, offset, size, LINE_MAX_BYTES)) {
      if (line.text === '') continue;
      const read = readLine(line.text, line.complete, seg.legacy);
      if (!read.ok) {
        await flush();
        await this.quarantine(seg.name, { reason: read.problem, line: line.text?.slice(0, QUARANTINED_TEXT_MAX) ?? null, offset: line.start });
        await this.saveProgress(seg.name, line.end, seg.legacy ? this.progress.seq : expected - 1);
        continue;
      }
      if (read.seq !== null) {
        if (read.seq > expected) {
          await flush();
          await this.noteMissing(seg.name, line.start, expected, read.seq - 1);
        }
        // A line numbered below `expected` is still stored: nothing valid is skipped on its number alone.
        expected = Math.max(expected, read.seq + 1);
      }
      chunk.push(read.record);
      chunkEnd = line.end;
      if (chunk.length >= INGEST_CHUNK) await flush();
    }
    await flush();
    if (end !== null && expected - 1 < end) {
      await this.noteMissing(seg.name, size, expected, end);
      expected = end + 1;
    }
    await this.saveProgress(seg.name, size, seg.legacy ? this.progress.seq : expected - 1);
    await unlink(seg.path);
    return stored;
  }

  /** Writes a chunk; a chunk that may already be there is checked by event id, so nothing is stored twice. */
  private async store(store: Store, records: EventRecord[], segment: string): Promise<number> {
    let refused = 0;
    try {
      if (this.uncertain) await store.putEventsOnce(records);
      else await store.putEvents(records);
    } catch (e) {
      this.uncertain = true;
      if (!refusedByStore(e)) throw e;
      // The store refuses one of them (not a passing failure): write them one by one to set that one aside.
      for (const record of records) {
        try {
          await store.putEventsOnce([record]);
        } catch (one) {
          if (!refusedByStore(one)) throw one;
          await this.quarantine(segment, { reason: `the store refused it: ${(one as Error).message}`, event: record });
          refused += 1;
        }
      }
    }
    this.uncertain = false;
    this.counts.ingested += records.length - refused;
    return records.length - refused;
  }

  private async noteMissing(segment: string, offset: number, fromSeq: number, toSeq: number): Promise<void> {
    const lost = toSeq - fromSeq + 1;
    await this.quarantine(segment, { reason: 'missing', fromSeq, toSeq, lost, offset });
  }

  private inQuarantineTurn<T>(f: () => Promise<T>): Promise<T> {
    const run = this.quarantineTurn.then(f, f);
    this.quarantineTurn = run.catch(() => undefined);
    return run;
  }

  /**
   * Erasure: every quarantine.jsonl entry holding one of `values` (visitor ids, email hashes) keeps only
   * where and why it was set aside, so the file still counts it and no longer holds the person. Returns
   * how many entries were cut. (Segments need nothing: their events are dropped at ingest, and a segment
   * is deleted once ingested.)
   */
  async scrub(values: string[]): Promise<number> {
    if (values.length === 0) return 0;
    return this.inQuarantineTurn(async () => {
      const path = join(this.dir, QUARANTINE);
      const size = await stat(path).then(
        (st) => st.size,
        () => null,
      );
      if (size === null) return 0;
      const tmp = `${path}.tmp`;
      const out = await open(tmp, 'w');
      let cut = 0;
      try {
        for await (const line of readLines(path, 0, size, Number.POSITIVE_INFINITY)) {
          let text = `${line.text ?? ''}\n`;
          if (values.some((v) => line.text?.includes(v))) {
            cut += 1;
            text = `${JSON.stringify(redacted(line.text ?? ''))}\n`;
          }
          await out.write(text);
        }
      } finally {
        await out.close();
      }
      await rename(tmp, path);
      return cut;
    });
  }

  private async quarantine(segment: string, entry: Entry): Promise<void> {
    await this.inQuarantineTurn(() => appendFile(join(this.dir, QUARANTINE), `${JSON.stringify({ at: this.now(), segment, ...entry })}\n`));
    if ('lost' in entry) this.counts.lost += entry.lost;
    else this.counts.quarantined += 1;
    this.log.warn(
      { segment, reason: entry.reason, quarantined: this.counts.quarantined, lost: this.counts.lost },
      'lost' in entry
        ? `journal damaged: ${entry.lost} events missing (sequence ${entry.fromSeq}-${entry.toSeq}), noted in quarantine.jsonl`
        : 'journal line set aside in quarantine.jsonl; ingest goes on',
    );
  }

  private async saveProgress(segment: string, offset: number, seq: number): Promise<void> {
    this.progress = { segment, offset, seq };
    const path = join(this.dir, PROGRESS);
    // Renamed into place, so a crash leaves the old progress or the new one, never half of one.
    await writeFile(`${path}.tmp`, JSON.stringify(this.progress));
    await rename(`${path}.tmp`, path);
  }
}

function closeQuietly(fd: number | null): void {
  if (fd === null) return;
  try {
    closeSync(fd);
  } catch {
    // already closed, or the disk is gone: nothing more to keep
  }
}

/** A quarantine entry without its line or event: where and why, and the event's id so it is counted once. */
function redacted(text: string): Record<string, unknown> {
  let entry: Record<string, unknown> = {};
  try {
    entry = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // A line of the file itself cut short: nothing of it is kept.
  }
  const id = (entry.event as EventRecord | undefined)?.item?.id;
  return {
    at: entry.at,
    segment: entry.segment,
    ...(entry.offset === undefined ? {} : { offset: entry.offset }),
    reason: entry.reason,
    ...(id === undefined ? {} : { event: { item: { id } } }),
    erased: true,
  };
}

/** DynamoDB's answer for an item it will never take (as opposed to throttling or being unreachable). */
function refusedByStore(e: unknown): boolean {
  return (e as { name?: string }).name === 'ValidationException';
}

function readLine(
  text: string | null,
  complete: boolean,
  legacy: boolean,
): { ok: true; record: EventRecord; seq: number | null } | { ok: false; problem: string } {
  if (text === null) return { ok: false, problem: `a line longer than ${LINE_MAX_BYTES} bytes` };
  if (!complete) return { ok: false, problem: 'a line cut short (no newline at the end of the file)' };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, problem: 'not JSON' };
  }
  let seq: number | null = null;
  if (!legacy) {
    const s = (value as { seq?: unknown } | null)?.seq;
    if (typeof s !== 'number' || !Number.isSafeInteger(s) || s < 1) return { ok: false, problem: 'no sequence number' };
    seq = s;
  }
  if (!isPlainObject(value)) return { ok: false, problem: 'not a JSON object' };
  const { seq: _seq, ...rest } = value;
  const r = readEventRecord(rest);
  return r.ok ? { ok: true, record: r.record, seq } : { ok: false, problem: r.problem };
}

/** The sequence number of the last whole line of a segment (its last 64 KiB are enough). */
async function lastSeqIn(path: string): Promise<number> {
  const size = (await stat(path)).size;
  let last = 0;
  for await (const line of readLines(path, Math.max(0, size - 65_536), size, LINE_MAX_BYTES)) {
    if (!line.complete || !line.text) continue;
    try {
      const s = (JSON.parse(line.text) as { seq?: unknown }).seq;
      if (typeof s === 'number' && Number.isSafeInteger(s)) last = Math.max(last, s);
    } catch {
      // the first line read may start mid-line
    }
  }
  return last;
}

async function endsWithNewline(path: string, size: number): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const { buffer } = await fh.read(Buffer.alloc(1), 0, 1, size - 1);
    return buffer[0] === 0x0a;
  } finally {
    await fh.close();
  }
}
