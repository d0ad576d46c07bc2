import { err, internalError, type Result } from '@revtrail/shared';
import type { CoreApi, CoreEvents } from '../core/api';
import type { Workspace } from '../core/workspaces/registry';

/**
 * What the three transports (Electron IPC, HTTP in browser mode, in-process) agree on. Pure: the renderer
 * bundles it, the main process and the web server import it, none of them import each other.
 */

/** Every CoreEvents name, as a value the transports can subscribe to; the check below keeps it complete. */
export const CORE_EVENTS = ['sync.progress', 'sync.changed'] as const satisfies readonly (keyof CoreEvents)[];
type MissingEvent = Exclude<keyof CoreEvents, (typeof CORE_EVENTS)[number]>;
// A new CoreEvents key that is not in CORE_EVENTS fails to compile here instead of never reaching the UI.
const _everyEventListed: [MissingEvent] extends [never] ? true : MissingEvent = true;

export const IPC_CALL = 'core:call';
export const IPC_EVENT = 'core:event';

/**
 * `domain.verb` (possibly `domain.sub.verb`), letters only. Checked before any lookup, so a name such as
 * `constructor` or `__proto__` never reaches a handler map.
 */
const METHOD_NAME = /^[a-z][a-zA-Z]{0,40}(\.[a-z][a-zA-Z]{0,40}){1,2}$/;
export const isMethodName = (name: unknown): name is string => typeof name === 'string' && METHOD_NAME.test(name);

export type ShellMode = 'electron' | 'browser';

/** Methods the host (Electron main or the browser-mode launcher) adds beside the core's. */
export interface ShellApi {
  /** Where the app runs and what the host started for it (the local redirector on first start). */
  'shell.info': (args: Record<string, never>) => Promise<Result<ShellInfo>>;
  /** Connects a workspace to the redirector embedded on this machine (its token never reaches the UI). */
  'shell.useLocalRedirector': (args: { workspace?: string }) => Promise<Result<{ workspace: Workspace; url: string }>>;
  /** A workspace of made-up data to look around in, labelled as such. */
  'shell.createSample': (args: Record<string, never>) => Promise<Result<Workspace>>;
  /** The scheduler's state: what runs by itself, when it last ran and how it went. */
  'shell.schedule': (args: Record<string, never>) => Promise<Result<ScheduleStatus[]>>;
}

export interface ShellInfo {
  mode: ShellMode;
  dataDir: string;
  /** The redirector this machine runs for newcomers, or null (not started, or could not start: `problem`). */
  localRedirector: { url: string } | null;
  localRedirectorProblem: string | null;
  /** Workspaces made by shell.createSample: the UI labels them. */
  sampleWorkspaceIds: string[];
}

export interface ScheduleStatus {
  job: string;
  label: string;
  everyMs: number;
  running: boolean;
  lastRunAt: number | null;
  lastOkAt: number | null;
  nextRunAt: number | null;
  /** The last run's failure, in words that say what to do; null after a success. */
  lastError: string | null;
  /**
   * The workspaces the last run failed for, each with its own message (lastError names them all): a screen
   * shows only its workspace's. Empty after a success, and when the run failed before any workspace.
   */
  failures: WorkspaceFailure[];
}

export interface WorkspaceFailure {
  workspaceId: string;
  message: string;
}

/** Everything the renderer may call. */
export type AppApi = CoreApi & ShellApi;
export type AppMethod = keyof AppApi;
export type AppArgs<M extends AppMethod> = Parameters<AppApi[M]>[0];
export type AppResult<M extends AppMethod> = Awaited<ReturnType<AppApi[M]>>;

export type ShellHandlers = Partial<ShellApi>;

/** The host side of a transport: one untyped entry point, validated at the edge. */
export type Dispatch = (method: string, args: unknown) => Promise<Result<unknown>>;

interface CoreLike {
  call(method: never, args: never): Promise<Result<unknown>>;
}

/**
 * One dispatcher for every edge: the name is checked, shell methods are the host's, the rest go to the
 * core (which answers unknown names itself), and a stray throw becomes a logged `internal` error.
 */
export function createDispatch(core: CoreLike, shell: ShellHandlers, log: { error(obj: object, msg: string): void; readonly file?: string }): Dispatch {
  const call = core.call.bind(core) as (method: string, args: unknown) => Promise<Result<unknown>>;
  return async (method, args) => {
    if (!isMethodName(method)) return err('invalid_input', `"${String(method).slice(0, 60)}" is not a method name (domain.verb).`);
    const body = args === undefined || args === null ? {} : args;
    if (typeof body !== 'object' || Array.isArray(body)) return err('invalid_input', `${method} takes one object argument.`);
    try {
      if (Object.hasOwn(shell, method)) {
        const handler = shell[method as keyof ShellApi] as (a: unknown) => Promise<Result<unknown>>;
        return await handler(body);
      }
      return await call(method, body);
    } catch (e) {
      log.error({ method, err: e }, 'call failed');
      return internalError(log.file);
    }
  };
}
