import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import dynaliteDb, { type DynaliteStore } from 'dynalite/db/index.js';

/**
 * UpdateTable's GlobalSecondaryIndexUpdates `Create` and `Delete` for the embedded store. dynalite 4 validates
 * them and then does nothing (actions/updateTable.js only changes throughput), so a table made by an earlier
 * version could never gain an index. This answers those requests itself, as DynamoDB does them: one index
 * created or deleted per request (DynamoDB's limit too), a new index filled from the items already in the
 * table, with the projection asked for. Every other request goes to dynalite unchanged.
 *
 * The index is filled while the request waits, and writes arriving meanwhile are not ordered against the
 * filling: the local redirector changes its indexes in ensureTable, before it serves anything.
 */
export function serveIndexUpdates(server: Server, store: DynaliteStore): void {
  const [dynalite] = server.listeners('request') as RequestListener[];
  if (!dynalite) throw new Error('dynalite registered no request handler: its internals changed (see store/dynalite-indexes.ts)');
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (req.headers['x-amz-target'] !== 'DynamoDB_20120810.UpdateTable') return void dynalite(req, res);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      let data: UpdateTableInput | null;
      try {
        data = JSON.parse(body.toString()) as UpdateTableInput;
      } catch {
        data = null; // dynalite answers it
      }
      const changes = (data?.GlobalSecondaryIndexUpdates ?? []).filter((u) => u.Create || u.Delete);
      if (!data || changes.length === 0) {
        // dynalite's own answer (throughput, billing mode, its validation errors): the request as it came.
        const again = Object.assign(Readable.from([body]), { headers: req.headers, method: req.method, url: req.url });
        return void dynalite(again as unknown as IncomingMessage, res);
      }
      changeIndex(store, data, changes).then(
        (table) => answer(res, 200, { TableDescription: table }),
        (e: unknown) => {
          const error = e as { type?: string; message?: string };
          if (!error.type) return answer(res, 500, { __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: String(error.message) });
          answer(res, 400, { __type: `com.amazonaws.dynamodb.v20120810#${error.type}`, message: error.message });
        },
      );
    });
  });
}

interface IndexKeys {
  IndexName: string;
  KeySchema: { AttributeName: string; KeyType: 'HASH' | 'RANGE' }[];
  Projection: { ProjectionType: 'ALL' | 'KEYS_ONLY' | 'INCLUDE'; NonKeyAttributes?: string[] };
}

type IndexDescription = IndexKeys & Record<string, unknown>;

interface IndexUpdate {
  Create?: IndexKeys;
  Delete?: { IndexName: string };
  Update?: unknown;
}

interface UpdateTableInput {
  TableName: string;
  AttributeDefinitions?: { AttributeName: string; AttributeType: string }[];
  GlobalSecondaryIndexUpdates?: IndexUpdate[];
}

interface TableDescription {
  TableName: string;
  TableArn: string;
  TableStatus: string;
  AttributeDefinitions: { AttributeName: string; AttributeType: string }[];
  GlobalSecondaryIndexes?: IndexDescription[];
  [more: string]: unknown;
}

type Callback<T> = (err: Error | null | undefined, value?: T) => void;

/** The parts of dynalite's store (db/index.js create()) this uses; the declaration covers only `db`. */
interface DynaliteInternals {
  tableDb: { lock(key: string, fn: (release: (cb: () => void) => () => void) => void): void; put(key: string, value: unknown, cb: Callback<void>): void };
  getTable(name: string, checkStatus: boolean, cb: Callback<TableDescription>): void;
  getItemDb(name: string): { createValueStream(): Readable };
  getIndexDb(type: string, table: string, index: string): { batch(ops: { type: 'put'; key: string; value: unknown }[], cb: Callback<void>): void };
  deleteIndexDb(type: string, table: string, index: string, cb: Callback<void>): void;
}
const getIndexActions = (dynaliteDb as unknown as {
  getIndexActions(indexes: IndexDescription[], existing: unknown, item: unknown, table: TableDescription): { puts: { key: string; item: unknown }[] };
}).getIndexActions;

const failure = (type: string, message: string) => Object.assign(new Error(message), { type });

function answer(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('content-type', 'application/x-amz-json-1.0');
  res.setHeader('content-length', Buffer.byteLength(text));
  res.end(text);
}

const call = <T>(fn: (cb: Callback<T>) => void) =>
  new Promise<T>((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value as T))));

async function changeIndex(dynalite: DynaliteStore, data: UpdateTableInput, changes: IndexUpdate[]): Promise<TableDescription> {
  const store = dynalite as unknown as DynaliteInternals;
  if (changes.length > 1) throw failure('LimitExceededException', 'Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously per table');
  if ((data.GlobalSecondaryIndexUpdates ?? []).some((u) => u.Update)) throw failure('ValidationException', 'The embedded store changes no index throughput (on-demand tables have none)');
  const release = await new Promise<(cb: () => void) => () => void>((resolve) => store.tableDb.lock(data.TableName, resolve));
  try {
    const table = await call<TableDescription>((cb) => store.getTable(data.TableName, false, cb)).catch(() => {
      throw failure('ResourceNotFoundException', `Requested resource not found: Table: ${data.TableName} not found`);
    });
    if (table.TableStatus !== 'ACTIVE') throw failure('ResourceInUseException', `Table is being ${table.TableStatus.toLowerCase()}: ${data.TableName}`);
    const indexes = table.GlobalSecondaryIndexes ?? [];
    const [change] = changes as [IndexUpdate];
    if (change.Delete) {
      const name = change.Delete.IndexName;
      if (!indexes.some((i) => i.IndexName === name)) throw failure('ResourceNotFoundException', `Requested resource not found: Index: ${name} not found`);
      table.GlobalSecondaryIndexes = indexes.filter((i) => i.IndexName !== name);
      if (table.GlobalSecondaryIndexes.length === 0) delete table.GlobalSecondaryIndexes;
      await call<void>((cb) => store.tableDb.put(data.TableName, table, cb));
      await call<void>((cb) => store.deleteIndexDb('global', data.TableName, name, cb));
      return table;
    }
    const create = change.Create!;
    if (indexes.some((i) => i.IndexName === create.IndexName)) throw failure('ValidationException', `One or more parameter values were invalid: Attempting to create an index which already exists: ${create.IndexName}`);
    for (const def of data.AttributeDefinitions ?? []) {
      if (!table.AttributeDefinitions.some((d) => d.AttributeName === def.AttributeName)) table.AttributeDefinitions.push(def);
    }
    for (const key of create.KeySchema) {
      if (!table.AttributeDefinitions.some((d) => d.AttributeName === key.AttributeName)) {
        throw failure('ValidationException', `One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions: ${key.AttributeName}`);
      }
    }
    const index: IndexDescription = {
      IndexName: create.IndexName,
      KeySchema: create.KeySchema,
      Projection: create.Projection,
      IndexStatus: 'CREATING',
      IndexSizeBytes: 0,
      ItemCount: 0,
      IndexArn: `${table.TableArn}/index/${create.IndexName}`,
      ProvisionedThroughput: { ReadCapacityUnits: 0, WriteCapacityUnits: 0, NumberOfDecreasesToday: 0 },
    };
    // Written first, so that an item written while the index fills is indexed by dynalite itself.
    table.GlobalSecondaryIndexes = [...indexes, index];
    await call<void>((cb) => store.tableDb.put(data.TableName, table, cb));
    const indexDb = store.getIndexDb('global', data.TableName, create.IndexName);
    let batch: { type: 'put'; key: string; value: unknown }[] = [];
    for await (const item of store.getItemDb(data.TableName).createValueStream()) {
      for (const put of getIndexActions([index], null, item, table).puts) batch.push({ type: 'put', key: put.key, value: put.item });
      if (batch.length >= 500) {
        const ops = batch;
        batch = [];
        await call<void>((cb) => indexDb.batch(ops, cb));
      }
    }
    if (batch.length > 0) await call<void>((cb) => indexDb.batch(batch, cb));
    index.IndexStatus = 'ACTIVE';
    await call<void>((cb) => store.tableDb.put(data.TableName, table, cb));
    return table;
  } finally {
    release(() => undefined)();
  }
}
