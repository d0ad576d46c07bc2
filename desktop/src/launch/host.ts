import { join } from 'node:path';
import { err, ok, type Clock } from '@revtrail/shared';
import type pino from 'pino';
import type { LocalRedirector } from '@revtrail/redirector/local';
import type { CoreLogger } from '../core/context';
import { createCore, type Core } from '../core/core';
import type { SecretStore } from '../core/secrets/types';
import type { Workspace } from '../core/workspaces/registry';
import { appJobs, createScheduler, type Scheduler } from '../core-scheduler/scheduler';
import { createSampleWorkspace, sampleWorkspaceIds } from './sample-workspace';
import { createDispatch, type Dispatch, type ShellHandlers, type ShellMode } from '../transport/contract';

export interface HostOptions {
  mode: ShellMode;
  dataDir: string;
  clock: Clock;
  log: CoreLogger;
  secrets: SecretStore;
  stripeApiBase?: string;
  fetch?: typeof fetch;
  /** The bundled ECB history where it is not beside the sources (the packaged app's resources). */
  ratesSnapshotPath?: string;
  /**
   * The embedded redirector for newcomers: started unless every workspace already has a deployed one.
   * `false` never starts it. `port` 8787 by default (its links carry the port, so it stays put).
   */
  localRedirector?: false | { port?: number; settings?: Record<string, string>; log?: pino.Logger };
  /** Run the sync schedule (on by default). */
  schedule?: boolean;
}

export interface Host {
  core: Core;
  dispatch: Dispatch;
  shell: ShellHandlers;
  scheduler: Scheduler;
  localRedirector: LocalRedirector | null;
  close(): Promise<void>;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/;

/** Whether a workspace still relies on this machine for its redirector (none yet, or a loopback one). */
export function wantsLocalRedirector(workspaces: readonly Workspace[]): boolean {
  if (workspaces.length === 0) return true;
  return workspaces.some((w) => w.redirectorUrl === null || LOOPBACK.test(new URL(w.redirectorUrl).hostname));
}

/**
 * What both the Electron main process and browser mode run: the core, the embedded redirector when
 * nothing else is set up, the sync schedule, and the shell methods the UI calls beside the core's.
 */
export async function startHost(opts: HostOptions): Promise<Host> {
  const core = createCore({ dataDir: opts.dataDir, clock: opts.clock, log: opts.log, secrets: opts.secrets, fetch: opts.fetch, stripeApiBase: opts.stripeApiBase, ratesSnapshotPath: opts.ratesSnapshotPath });
  let local: LocalRedirector | null = null;
  let localProblem: string | null = null;
  const listed = await core.call('workspaces.list', {});
  if (opts.localRedirector !== false && listed.ok && wantsLocalRedirector(listed.value)) {
    const settings = opts.localRedirector?.settings ?? {};
    try {
      const { startLocalRedirector } = await import('@revtrail/redirector/local');
      const { silentLogger } = await import('@revtrail/redirector/log');
      local = await startLocalRedirector({
        dataDir: join(opts.dataDir, 'local-redirector'),
        port: opts.localRedirector?.port ?? 8787,
        settings,
        log: opts.localRedirector?.log ?? (silentLogger as pino.Logger),
      });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      localProblem =
        code === 'EADDRINUSE'
          ? `port ${opts.localRedirector?.port ?? 8787} is taken (is Revtrail already running?). Close the other program, or set REVTRAIL_LOCAL_REDIRECTOR_PORT.`
          : `${(e as Error).message}. Connect a deployed redirector instead.`;
      opts.log.warn({ err: (e as Error).message }, 'local redirector did not start');
    }
  }

  const scheduler = createScheduler({ jobs: appJobs(core), clock: opts.clock, log: opts.log });
  const shell: ShellHandlers = {
    'shell.info': async () =>
      ok({ mode: opts.mode, dataDir: opts.dataDir, localRedirector: local ? { url: local.url } : null, localRedirectorProblem: localProblem, sampleWorkspaceIds: sampleWorkspaceIds(opts.dataDir) }),
    'shell.createSample': () => createSampleWorkspace(core, { dataDir: opts.dataDir, now: opts.clock.now() }),
    'shell.useLocalRedirector': async ({ workspace }) => {
      if (!local) return err('unavailable', localProblem ? `The local redirector is not running: ${localProblem}` : 'The local redirector is not running: restart Revtrail, or connect a deployed redirector.');
      const r = await core.call('redirector.connect', { workspace, url: local.url, token: local.config.syncToken });
      return r.ok ? ok({ workspace: r.value.workspace, url: local.url }) : r;
    },
    'shell.schedule': async () => ok(scheduler.status()),
  };
  if (opts.schedule !== false) scheduler.start();

  return {
    core,
    dispatch: createDispatch(core, shell, opts.log),
    shell,
    scheduler,
    localRedirector: local,
    async close() {
      scheduler.stop();
      await local?.close();
      core.close();
    },
  };
}
