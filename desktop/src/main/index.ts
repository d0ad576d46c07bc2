import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { app, BrowserWindow, dialog, ipcMain, Menu, safeStorage, session, shell, utilityProcess } from 'electron';
import { defaultDataDir, defaultSecretKeyFile } from '../host/paths';
import type { CoreLogger } from '../core/context';
import { CORE_PROCESS_ENTRY, startCoreProcess } from '../host/core-client';
import { CONTENT_SECURITY_POLICY } from '../transport/csp';
import { registerCoreIpc } from './ipc';
import { menuTemplate } from './menu';
import { isAppUrl, navigationVerdict } from './navigation';

// Until the core process takes this process's lines into the log file, and after it stops.
const consoleLog: CoreLogger = {
  info: (o, m) => console.log(m, o),
  warn: (o, m) => console.warn(m, o),
  error: (o, m) => console.error(m, o),
};

// electron-vite serves the renderer from a dev server while developing; the build loads it from disk.
const appUrl = process.env.ELECTRON_RENDERER_URL ?? pathToFileURL(join(import.meta.dirname, '../renderer/index.html')).href;

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1280,
    height: 860,
    title: 'Revtrail',
    show: false,
    webPreferences: {
      preload: join(import.meta.dirname, '../preload/index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      spellcheck: false,
    },
  });
  win.once('ready-to-show', () => win.show());
  win.webContents.setWindowOpenHandler(({ url }) => {
    if (navigationVerdict(url, appUrl) === 'external') void shell.openExternal(url);
    return { action: 'deny' };
  });
  win.webContents.on('will-navigate', (event, url) => {
    const verdict = navigationVerdict(url, appUrl);
    if (verdict === 'allow') return;
    event.preventDefault();
    if (verdict === 'external') void shell.openExternal(url);
  });
  win.webContents.on('will-attach-webview', (event) => event.preventDefault());
  void win.loadURL(appUrl);
  return win;
}

async function start(): Promise<void> {
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return;
  }
  await app.whenReady();
  // The same folder the CLI and browser mode use (on Linux Electron's userData would be ~/.config/Revtrail instead).
  const dataDir = defaultDataDir(process.env);
  // The whole session refuses remote content; the page's own meta CSP says the same.
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] } });
  });
  // Nothing but writing to the clipboard ("Copy link", "Copy pixel snippet").
  session.defaultSession.setPermissionRequestHandler((_wc, permission, callback) => callback(permission === 'clipboard-sanitized-write'));

  // The core, its scheduler, the embedded redirector, the secret store and the log file run in a utility
  // process: a ledger rebuild there never freezes a window. safeStorage exists only here, so the core
  // process asks this one to seal and open what it keeps with it.
  const started = await startCoreProcess(
    {
      mode: 'electron',
      dataDir,
      secrets: {
        keyFile: defaultSecretKeyFile(process.env),
        prefer: process.env.REVTRAIL_SECRETS,
        // Earlier versions of the app sealed secrets.enc with this key, without a marker.
        legacyKeyFiles: [join(app.getPath('appData'), 'Revtrail-keys', 'secrets.key')],
        env: { PATH: process.env.PATH },
        safeStorage: true,
      },
      stripeApiBase: process.env.REVTRAIL_STRIPE_API_BASE || undefined,
      localRedirector: { port: Number(process.env.REVTRAIL_LOCAL_REDIRECTOR_PORT ?? 8787) },
    },
    {
      spawn: () => utilityProcess.fork(fileURLToPath(CORE_PROCESS_ENTRY), [], { serviceName: 'Revtrail core', stdio: 'inherit' }),
      safeStorage,
      fallbackLog: consoleLog,
    },
  );
  if (!started.ok) {
    dialog.showErrorBox('Revtrail cannot open its data', started.error.message);
    app.exit(1);
    return;
  }
  const host = started.value;
  const log = host.log;
  const dispose = registerCoreIpc(ipcMain, host, {
    log,
    isTrustedSender: (url) => isAppUrl(url, appUrl),
    broadcast: (channel, name, payload) => {
      for (const w of BrowserWindow.getAllWindows()) w.webContents.send(channel, name, payload);
    },
  });

  let win = createWindow();
  const go = (route: string) => void win.webContents.executeJavaScript(`location.hash = ${JSON.stringify(`#/${route}`)}`);
  Menu.setApplicationMenu(Menu.buildFromTemplate(menuTemplate({ platform: process.platform, appName: app.name, go, openDataFolder: () => void shell.openPath(dataDir) }) as Electron.MenuItemConstructorOptions[]));

  app.on('second-instance', () => {
    if (win.isMinimized()) win.restore();
    win.focus();
  });
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) win = createWindow();
  });
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  let closing = false;
  app.on('will-quit', (event) => {
    if (closing) return;
    closing = true;
    event.preventDefault();
    dispose();
    void host.close().finally(() => app.exit(0));
  });
}

void start();
