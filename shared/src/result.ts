/**
 * Expected failures are values; throw only for bugs. Listed as values so each edge that maps every code
 * (the CLI's exit codes) is checked against the whole list.
 */
export const APP_ERROR_CODES = [
  'invalid_input',
  'not_found',
  'unauthorized',
  'forbidden',
  'conflict',
  'rate_limited',
  'unavailable',
  'internal',
  // Failures a desktop user acts on, each with its own next step (the desktop's edges show the message).
  'database_too_new',
  'secret_unreadable',
  'key_revoked',
  'permission_missing',
  'unreachable',
  'read_only',
] as const;

export type AppErrorCode = (typeof APP_ERROR_CODES)[number];

export interface AppError {
  code: AppErrorCode;
  message: string;
  details?: unknown;
}

export type Result<T, E = AppError> = { ok: true; value: T } | { ok: false; error: E };

export const ok = <T>(value: T): Result<T, never> => ({ ok: true, value });
export const err = (code: AppErrorCode, message: string, details?: unknown): Result<never> => ({
  ok: false,
  error: details === undefined ? { code, message } : { code, message, details },
});

/**
 * A bug, as the user sees it: not something they did, and where the details are. Every edge (IPC, HTTP,
 * CLI, the scheduler) turns a stray throw into this, so "Something went wrong" always names the log.
 */
export const internalMessage = (logFile?: string | null): string =>
  `Something went wrong inside Revtrail (a bug, not something you did); the details are in ${logFile ?? 'its log'}.`;
export const internalError = (logFile?: string | null): Result<never> => err('internal', internalMessage(logFile));
