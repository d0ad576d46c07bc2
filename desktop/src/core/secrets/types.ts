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
