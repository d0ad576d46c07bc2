import { randomBytes } from 'node:crypto';
import { startWebServer, type WebServer } from '../web/server';
import { buildRenderer, RENDERER_OUT, rendererBuildIsStale } from './build-renderer';
import { startHost, type Host, type HostOptions } from './host';

export interface BrowserModeOptions extends Omit<HostOptions, 'mode'> {
  /** 0: any free port. */
  port?: number;
  /** The built renderer; built (or rebuilt when stale) when it is the default one. */
  staticDir?: string;
  token?: string;
}

export interface BrowserMode {
  host: Host;
  web: WebServer;
  /** Open this (it carries the token). */
  url: string;
  close(): Promise<void>;
}

/** The app without Electron: the host plus the renderer and RPC on 127.0.0.1, behind a random token. */
export async function startBrowserMode(opts: BrowserModeOptions): Promise<BrowserMode> {
  const staticDir = opts.staticDir ?? RENDERER_OUT;
  if (opts.staticDir === undefined && rendererBuildIsStale()) {
    opts.log.info({ staticDir }, 'building the renderer');
    await buildRenderer(staticDir);
  }
  const host = await startHost({ ...opts, mode: 'browser' });
  try {
    const web = await startWebServer({
      core: host.core,
      shell: host.shell,
      host: '127.0.0.1',
      port: opts.port ?? 0,
      token: opts.token ?? randomBytes(24).toString('base64url'),
      staticDir,
      log: opts.log,
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
