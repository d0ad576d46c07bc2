// A send in its own process, for the test that kills it with SIGKILL while Meta holds its request.
// Usage: tsx send-process.ts <db path> <access token>
import { systemClock } from '@revtrail/shared';
import { openDatabase } from '../../db/open';
import { sendDue } from '../sender';

const [dbPath, token] = process.argv.slice(2);
const db = openDatabase(dbPath!);
process.stdout.write('sending\n');
// A timeout far above the fake's delay: the process is inside the request when it is killed.
const report = await sendDue(db, { fetch, clock: systemClock, log: { info: () => undefined, warn: () => undefined, error: () => undefined }, token: token!, timeoutMs: 60_000 });
process.stdout.write(`finished ${JSON.stringify(report)}\n`);
