import type { AppErrorCode } from '@revtrail/shared';

/** The one place result codes become exit codes (the meanings are in the usage text and the README). */
export const EXIT_CODES: Readonly<Record<AppErrorCode, number>> = {
  internal: 1,
  invalid_input: 2,
  conflict: 2,
  not_found: 3,
  unauthorized: 4,
  forbidden: 4,
  key_revoked: 4,
  permission_missing: 4,
  secret_unreadable: 4,
  rate_limited: 5,
  unavailable: 5,
  unreachable: 5,
  database_too_new: 6,
  read_only: 6,
};

/**
 * A code's exit code. A code this CLI does not know (a newer core process answering) is a failure all the
 * same: 1, never the 0 an undefined exit code would leave.
 */
export const exitCodeOf = (code: string): number => (Object.hasOwn(EXIT_CODES, code) ? EXIT_CODES[code as AppErrorCode] : 1);
