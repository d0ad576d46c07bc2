import pino from 'pino';

/** The structured logger interface every part receives (pino's). Never log secrets, emails or raw IPs. */
export type Logger = Pick<pino.Logger, 'info' | 'warn' | 'error' | 'debug' | 'child'>;

export function createLogger(opts: { level?: string } = {}): pino.Logger {
  return pino({
    level: opts.level ?? 'info',
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie', '*.syncToken', '*.email'], censor: '[redacted]' },
  });
}

export const silentLogger: Logger = pino({ level: 'silent' });
