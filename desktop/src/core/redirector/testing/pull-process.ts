// A pull in its own process, slowed down per page, for the test that kills it with SIGKILL mid-way.
// Usage: tsx pull-process.ts <db path> <redirector url> <token>
import { systemClock } from '@revtrail/shared';
import { openDatabase } from '../../db/open';
import { RedirectorClient } from '../client';
import { pullRedirector } from '../sync';

const [dbPath, url, token] = process.argv.slice(2);
const db = openDatabase(dbPath!);
await pullRedirector(db, new RedirectorClient(url!, token!), {
  clock: systemClock,
  pageSize: 10,
  // Two pages a write: the kill can land between the pages of one write, whose cursor is not committed.
  writeItems: 20,
  onProgress: (p) => {
    process.stdout.write(`${p.feed} ${p.received}\n`);
    const until = Date.now() + 15;
    while (Date.now() < until); // hold the process inside the pull between pages
  },
});
process.stdout.write('finished\n');
