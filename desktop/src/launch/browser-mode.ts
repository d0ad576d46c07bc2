import { randomBytes } from 'node:crypto';
import type { CoreLogger } from '../core/context';
import type { SecretStore } from '../core/secrets/types';
import { startCoreProcess, type CoreProcessOptions, type RemoteHost } from '../host/core-client';
import type { CoreProcessConfig } from '../host/core-process';
import { startHost, type Host, type HostHandle, type HostOptions } from '../host/host';
import { startWebServer, type WebServer } from '../web/server';
import { buildRenderer, RENDERER_OUT, rendererBuildIsStale } from './build-renderer';

interface WebOptions {
  /** 0: any free port. */
  port?: number;
  /** The built renderer; built (or rebuilt when stale) when it is the default one. */
  staticDir?: string;
  token?: string;
  log: CoreLogger;
}

/** The core in a child process (npm start): secrets chosen there, for the data folder, by the same rules as everywhere. */
export type ProcessBrowserModeOptions = WebOptions & Omit<CoreProcessConfig, 'mode'> & Pick<CoreProcessOptions, 'spawn'>;
/** The core in this process, with its parts given (tests that hand it a fake clock or a store). */
export type InProcessBrowserModeOptions = WebOptions & Omit<HostOptions, 'mode'>;
export type BrowserModeOptions = ProcessBrowserModeOptions | InProcessBrowserModeOptions;

/** `H`: the in-process Host (tests reach its core and local redirector) or the core process's RemoteHost. */
export interface BrowserMode<H extends HostHandle = Host> {
  host: H;
  web: WebServer;
  /** Open this (it carries the token). */
  url: string;
  close(): Promise<void>;
}

/** A host that could not start, with the user's next step in its message (a read-only folder, unreadable secrets). */
export class HostStartError extends Error {}

const inProcess = (o: BrowserModeOptions): o is InProcessBrowserModeOptions => typeof (o.secrets as SecretStore).get === 'function';

/** The app without Electron: the host plus the renderer and RPC on 127.0.0.1, behind a random token. */
export async function startBrowserMode(opts: InProcessBrowserModeOptions): Promise<BrowserMode<Host>>;
export async function startBrowserMode(opts: ProcessBrowserModeOptions): Promise<BrowserMode<RemoteHost>>;
export async function startBrowserMode(opts: BrowserModeOptions): Promise<BrowserMode<HostHandle>> {
  const staticDir = opts.staticDir ?? RENDERER_OUT;
  if (opts.staticDir === undefined && rendererBuildIsStale()) {
    opts.log.info({ staticDir }, 'building the renderer');
    await buildRenderer(staticDir);
  }
  let host: HostHandle;
  let log: CoreLogger = opts.log;
  if (inProcess(opts)) {
    host = await startHost({ ...opts, mode: 'browser' });
  } else {
    const { port: _port, staticDir: _static, token: _token, log: _log, spawn, ...config } = opts;
    const started = await startCoreProcess({ ...config, mode: 'browser' }, { spawn, fallbackLog: opts.log });
    if (!started.ok) throw new HostStartError(started.error.message);
    host = started.value;
    log = started.value.log;
  }
  try {
    const web = await startWebServer({
      core: host,
      host: '127.0.0.1',
      port: opts.port ?? 0,
      token: opts.token ?? randomBytes(24).toString('base64url'),
      staticDir,
      log,
    });
    return {
      host,
      web,
      url: web.url,
      async close() {
        await web.close();
        await host.close();
      },
    };
  } catch (e) {
    await host.close();
    throw e;
  }
}
