import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { ConfigError } from './config';
import { startLocalRedirector } from './local';

const USAGE = `Usage: npm run redirector -- [--port 8787] [--data-dir ./data]

Runs the Revtrail redirector on this machine (127.0.0.1), on an embedded DynamoDB-compatible store kept
in the data directory. Settings come from REVTRAIL_* environment variables (see README.md); the sync
token is REVTRAIL_SYNC_TOKEN, or one generated on first start, stored in the data dir and printed once.`;

async function main(argv: string[]): Promise<number> {
  let values: { port?: string; 'data-dir'?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { port: { type: 'string' }, 'data-dir': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
    }));
  } catch (e) {
    console.error(`${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const port = Number(values.port ?? process.env.PORT ?? 8787);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    console.error(`--port must be a port number (0-65535), got "${values.port}"\n\n${USAGE}`);
    return 2;
  }
  // npm runs workspace scripts inside redirector/: resolve a relative --data-dir from where the user typed it.
  const dataDir = resolve(process.env.INIT_CWD ?? process.cwd(), values['data-dir'] ?? './data');
  try {
    const r = await startLocalRedirector({ dataDir, port });
    console.log(`Revtrail redirector listening on ${r.url} (data in ${dataDir})`);
    console.log(`  pixel:  <script async src="${r.url}/p.js" data-auto-identify></script>`);
    if (r.tokenCreated) {
      console.log(`  sync token (shown once; kept in ${dataDir}/secrets.json): ${r.config.syncToken}`);
    }
    // Ctrl-C reaches npm, tsx and node alike, so a signal may come twice: stop once, and finish the stop
    // (queued clicks written, store closed) rather than die half-way.
    let stopping: Promise<void> | null = null;
    const stop = () => {
      stopping ??= r.close().then(
        () => process.exit(0),
        (e: unknown) => {
          console.error('Stopping failed:', e);
          process.exit(1);
        },
      );
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    return -1;
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.message);
      return 2;
    }
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'EADDRINUSE') {
      console.error(`Port ${port} is already in use: stop the other process or pass --port.`);
      return 1;
    }
    throw e;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    (code) => {
      if (code >= 0) process.exit(code);
    },
    (e: unknown) => {
      console.error('The redirector failed to start:', e);
      process.exit(1);
    },
  );
}
