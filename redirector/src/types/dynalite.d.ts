// dynalite ships no type declarations; these cover what the redirector uses of it.
declare module 'dynalite' {
  import type { Server } from 'node:http';
  interface DynaliteOptions {
    path?: string;
    createTableMs?: number;
    deleteTableMs?: number;
    updateTableMs?: number;
    maxItemSizeKb?: number;
  }
  export default function dynalite(options?: DynaliteOptions): Server;
}

// dynalite's store factory, reached by store/embedded.ts for the LevelDB handle (compaction after an erasure).
declare module 'dynalite/db/index.js' {
  export interface LevelIterator {
    close(): Promise<void>;
    next(): Promise<unknown>;
    return?: () => Promise<void>;
  }
  export interface DynaliteStore {
    /** classic-level's Level on disk (compactRange), memory-level's in memory (none). */
    db: {
      compactRange?: (start: string, end: string) => Promise<void>;
      getProperty?: (property: string) => string;
      keys?: (options?: object) => LevelIterator;
      values?: (options?: object) => LevelIterator;
      iterator?: (options?: object) => LevelIterator;
      open(options?: { compression?: boolean }): Promise<void>;
      /** dynalite's close ends its lifecycle; LevelDB's own is kept as `_original`. */
      close: (() => Promise<void>) & { _original?: () => Promise<void> };
    };
  }
  const db: { create(options: object): DynaliteStore };
  export default db;
}
