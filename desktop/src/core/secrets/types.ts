/**
 * Where the desktop keeps secrets (sync tokens, Stripe keys, email-hash keys): never in SQLite, logs or
 * error messages. Names are opaque strings such as `ws_<id>.redirector_token`.
 */
export interface SecretStore {
  /** What protects the secrets, in words a user can check (shown by `revtrail status`). */
  readonly description: string;
  get(name: string): Promise<string | null>;
  set(name: string, value: string): Promise<void>;
  delete(name: string): Promise<void>;
}

/**
 * A secret that is stored but cannot be read back here (another key, another user account, a damaged
 * entry). The core answers it as `secret_unreadable`, naming the one service to reconnect; storing that
 * secret anew replaces it and leaves every other secret as it was.
 */
export class SecretUnreadableError extends Error {
  constructor(
    readonly secretName: string,
    readonly reason: string,
  ) {
    super(`The saved secret ${secretName} cannot be read: ${reason}`);
    this.name = 'SecretUnreadableError';
  }
}
