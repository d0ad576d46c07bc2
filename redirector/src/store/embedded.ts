import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { mkdirSync } from 'node:fs';
import dynalite from 'dynalite';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';

/**
 * The embedded DynamoDB-compatible store: dynalite (LevelDB on disk, or memory) served in this process on
 * 127.0.0.1, spoken to by the same AWS SDK code as production.
 */
export interface EmbeddedDynamo {
  endpoint: string;
  port: number;
  client(): DynamoDBClient;
  close(): Promise<void>;
}

export interface EmbeddedDynamoOptions {
  /** LevelDB directory; omit for an in-memory store. */
  path?: string;
  /** Fixed port (e.g. to come back on the same endpoint after a restart); 0 or omitted: any free port. */
  port?: number;
}

export async function startEmbeddedDynamo(opts: EmbeddedDynamoOptions = {}): Promise<EmbeddedDynamo> {
  if (opts.path) mkdirSync(opts.path, { recursive: true });
  const server: Server = dynalite({ path: opts.path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  server.listen(opts.port ?? 0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    port,
    client: () =>
      new DynamoDBClient({
        endpoint,
        region: 'local',
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        maxAttempts: 2,
      }),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections?.();
        server.close((err?: Error) => (err ? reject(err) : resolve()));
      }),
  };
}
