import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { app, BrowserWindow, ipcMain, Menu, safeStorage, session, shell } from 'electron';
import { systemClock } from '@revtrail/shared';
import type { CoreLogger } from '../core/context';
import { EncryptedFileSecretStore } from '../core/secrets/encrypted-file';
import type { SecretStore } from '../core/secrets/types';
import { startHost, type Host } from '../launch/host';
import { CONTENT_SECURITY_POLICY } from '../transport/csp';
import { registerCoreIpc } from './ipc';
import { menuTemplate } from './menu';
import { isAppUrl, navigationVerdict } from './navigation';
import { SafeStorageSecretStore } from './safe-storage-secrets';

const log: CoreLogger = {
  info: (o, m) => console.log(m, o),
  warn: (o, m) => console.warn(m, o),
  error: (o, m) => console.error(m, o),
};

// electron-vite serves the renderer from a dev server while developing; the build loads it from disk.
const appUrl = process.env.ELECTRON_RENDERER_URL ?? pathToFileURL(join(import.meta.dirname, '../renderer/index.html')).href;

function secretStore(dataDir: string): SecretStore {
  if (safeStorage.isEncryptionAvailable() && (process.platform !== 'linux' || safeStorage.getSelectedStorageBackend() !== 'basic_text')) {
    return new SafeStorageSecretStore(safeStorage, join(dataDir, 'secrets.safe.json'));
  }
  // No keychain (a bare Linux desktop): the CLI's store, with its key kept outside the data folder.
  log.warn({}, 'no OS keychain: secrets go to an encrypted file instead');
  return new EncryptedFileSecretStore(join(dataDir, 'secrets.enc'), join(app.getPath('appData'), 'Revtrail-keys', 'secrets.key'));
}

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
  const dataDir = process.env.REVTRAIL_HOME ?? app.getPath('userData');
  // The whole session refuses remote content; the page's own meta CSP says the same.
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] } });
  });
  // Nothing but writing to the clipboard ("Copy link", "Copy pixel snippet").
  session.defaultSession.setPermissionRequestHandler((_wc, permission, callback) => callback(permission === 'clipboard-sanitized-write'));

  const host: Host = await startHost({
    mode: 'electron',
    dataDir,
    clock: systemClock,
    log,
    secrets: secretStore(dataDir),
    stripeApiBase: process.env.REVTRAIL_STRIPE_API_BASE || undefined,
    localRedirector: { port: Number(process.env.REVTRAIL_LOCAL_REDIRECTOR_PORT ?? 8787) },
  });
  const dispose = registerCoreIpc(ipcMain, host.core, {
    shell: host.shell,
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
