import { appendFileSync, existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { CoreLogger } from '../core/context';
import type { SecretStore } from '../core/secrets/types';

export const LOG_MAX_BYTES = 5 * 1024 * 1024;
export const LOG_KEEP = 3;

/** The log's place in a data folder. */
export const logFilePath = (dataDir: string) => join(dataDir, 'logs', 'revtrail.log');

export interface FileLogger extends CoreLogger {
  /** Where the lines go: error messages for bugs name it. */
  readonly file: string;
  /** A secret value never to be written, whatever field or message carries it. */
  redact(value: string): void;
}

// Credentials recognisable by their shape, for ones that reach a log before the store has seen them.
const SHAPES: RegExp[] = [/\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{8,}/g, /\bwhsec_[A-Za-z0-9]{8,}/g, /\b(bearer)\s+[A-Za-z0-9._~+/=-]{8,}/gi];
const MIN_REDACTED = 8;

/**
 * JSON lines (time, level, message, fields) in `<data>/logs/revtrail.log`, rotated at `maxBytes` into
 * revtrail.log.1 .. .N. Every secret the store has handled, in the forms a log could hold it (as is,
 * base64, base64url, hex), and anything shaped like a Stripe key or a bearer token, is replaced by
 * [redacted] before a line is written. Writes are synchronous: a line is on disk before the call that
 * logged it goes on, so the line before a crash is there.
 */
export function createFileLogger(opts: { dataDir: string; maxBytes?: number; keep?: number; echo?: (line: string) => void }): FileLogger {
  const file = logFilePath(opts.dataDir);
  const maxBytes = opts.maxBytes ?? LOG_MAX_BYTES;
  const keep = opts.keep ?? LOG_KEEP;
  const secrets = new Set<string>();
  let broken = false;

  const scrub = (text: string) => {
    let out = text;
    for (const s of secrets) out = out.split(s).join('[redacted]');
    for (const shape of SHAPES) out = out.replace(shape, (m, scheme?: string) => (typeof scheme === 'string' && /^bearer$/i.test(scheme) ? `${scheme} [redacted]` : '[redacted]'));
    return out;
  };
  const rotate = () => {
    rmSync(`${file}.${keep}`, { force: true });
    for (let i = keep - 1; i >= 1; i--) if (existsSync(`${file}.${i}`)) renameSync(`${file}.${i}`, `${file}.${i + 1}`);
    renameSync(file, `${file}.1`);
  };
  const write = (level: 'info' | 'warn' | 'error', obj: object, msg: string) => {
    const line = `${scrub(JSON.stringify({ time: new Date().toISOString(), level, msg, ...errorFields(obj) }))}\n`;
    opts.echo?.(line);
    if (broken) return;
    try {
      mkdirSync(dirname(file), { recursive: true });
      if (existsSync(file) && statSync(file).size + line.length > maxBytes) rotate();
      appendFileSync(file, line, { mode: 0o600 });
    } catch (e) {
      // A read-only or full disk must not turn logging into a crash; the shell says so once.
      broken = true;
      process.stderr.write(`Revtrail cannot write its log ${file}: ${(e as Error).message}\n`);
    }
  };
  return {
    file,
    redact(value) {
      if (value.length < MIN_REDACTED) return;
      const bytes = Buffer.from(value, 'utf8');
      for (const form of [value, bytes.toString('base64'), bytes.toString('base64url'), bytes.toString('hex')]) secrets.add(form);
    },
    info: (o, m) => write('info', o, m),
    warn: (o, m) => write('warn', o, m),
    error: (o, m) => write('error', o, m),
  };
}

/** Errors as their message and stack (JSON.stringify drops both). */
function errorFields(obj: object): object {
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, v instanceof Error ? { name: v.name, message: v.message, stack: v.stack } : v]));
}

/** The same store, telling `logger` every value it reads or stores, so no log line can carry one. */
export function redactingStore(store: SecretStore, logger: Pick<FileLogger, 'redact'>): SecretStore {
  return {
    get description() {
      return store.description;
    },
    async get(name) {
      const v = await store.get(name);
      if (v !== null) logger.redact(v);
      return v;
    },
    async set(name, value) {
      logger.redact(value);
      await store.set(name, value);
    },
    delete: (name) => store.delete(name),
  };
}
