import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { SecretStore } from './types';

/** Runs a program without a shell; the secret travels on stdin, never in argv (which `ps` shows). */
export type Runner = (file: string, args: string[], stdin?: string) => Promise<{ code: number; stdout: string; stderr: string }>;

export const runProgram: Runner = (file, args, stdin) =>
  new Promise((resolve) => {
    const child = execFile(file, args, { timeout: 15_000, maxBuffer: 1 << 20 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 127) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
    child.stdin?.end(stdin ?? '');
  });

const SERVICE = 'revtrail';

/** Each platform's keychain command line: macOS `security` (Keychain), Linux `secret-tool` (Secret Service). */
interface Backend {
  name: string;
  program: string;
  set(name: string, value: string): { args: string[]; stdin: string };
  get(name: string): string[];
  remove(name: string): string[];
  /** Exit status and output that mean "no such item" rather than a failure. */
  missing(r: { code: number; stderr: string }): boolean;
}

// `security -i` reads its commands from stdin, so the value is never an argument of a process.
const quote = (s: string) => `"${s.replace(/["\\]/g, '\\$&')}"`;
const macos: Backend = {
  name: 'macOS Keychain',
  program: '/usr/bin/security',
  set: (name, value) => ({ args: ['-i'], stdin: `add-generic-password -U -s ${SERVICE} -a ${quote(name)} -w ${quote(value)}\n` }),
  get: (name) => ['find-generic-password', '-s', SERVICE, '-a', name, '-w'],
  remove: (name) => ['delete-generic-password', '-s', SERVICE, '-a', name],
  missing: (r) => r.code === 44,
};
const secretService: Backend = {
  name: 'the Secret Service keyring (GNOME Keyring, KWallet)',
  program: 'secret-tool',
  set: (name, value) => ({ args: ['store', `--label=Revtrail ${name}`, 'service', SERVICE, 'account', name], stdin: value }),
  get: (name) => ['lookup', 'service', SERVICE, 'account', name],
  remove: (name) => ['clear', 'service', SERVICE, 'account', name],
  // lookup and clear exit 1, silently, when nothing matches; a missing keyring daemon says so on stderr.
  missing: (r) => r.code === 1 && r.stderr.trim() === '',
};

export class KeychainError extends Error {}

/**
 * Secrets in the operating system's keychain, through its own command-line tool. What it protects
 * against beyond the encrypted file: the key is not a file at all; the keychain encrypts under the
 * user's login and may ask before another program reads an item. Malware running as the same user with
 * the keychain unlocked can still ask for it. Windows has no command-line reader for its Credential
 * Manager, so Windows uses the encrypted file (and the Electron app, safeStorage/DPAPI).
 */
export class KeychainSecretStore implements SecretStore {
  readonly description: string;
  private readonly program: string;

  private constructor(
    private readonly backend: Backend,
    program: string,
    private readonly run: Runner,
  ) {
    this.program = program;
    this.description = `${backend.name}, service "${SERVICE}"`;
  }

  /** The platform's keychain if its tool is installed and answers; null otherwise. */
  static async detect(opts: { platform?: NodeJS.Platform; env?: NodeJS.ProcessEnv; run?: Runner } = {}): Promise<KeychainSecretStore | null> {
    const platform = opts.platform ?? process.platform;
    const run = opts.run ?? runProgram;
    const backend = platform === 'darwin' ? macos : platform === 'linux' ? secretService : null;
    if (!backend) return null;
    const program = backend.program.includes('/') ? (existsSync(backend.program) ? backend.program : null) : onPath(backend.program, opts.env ?? process.env);
    if (!program) return null;
    const store = new KeychainSecretStore(backend, program, run);
    // A lookup of an item that does not exist: "missing" means the keyring answered.
    const probe = await run(program, backend.get('probe.absent'));
    return probe.code === 0 || backend.missing(probe) ? store : null;
  }

  async get(name: string): Promise<string | null> {
    const r = await this.run(this.program, this.backend.get(name));
    if (r.code === 0) return r.stdout.replace(/\r?\n$/, '');
    if (this.backend.missing(r)) return null;
    throw new KeychainError(`The keychain did not answer (${this.program} exit ${r.code}): ${r.stderr.trim().slice(0, 200)}`);
  }

  async set(name: string, value: string): Promise<void> {
    const { args, stdin } = this.backend.set(name, value);
    const r = await this.run(this.program, args, stdin);
    if (r.code !== 0) throw new KeychainError(`The keychain refused to store ${name} (${this.program} exit ${r.code}): ${r.stderr.trim().slice(0, 200)}`);
  }

  async delete(name: string): Promise<void> {
    const r = await this.run(this.program, this.backend.remove(name));
    if (r.code !== 0 && !this.backend.missing(r)) throw new KeychainError(`The keychain refused to delete ${name} (${this.program} exit ${r.code}).`);
  }
}

function onPath(program: string, env: NodeJS.ProcessEnv): string | null {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, program))) return join(dir, program);
  }
  return null;
}
