/** A menu item as Electron's Menu.buildFromTemplate takes it (the subset used here). */
export interface MenuItem {
  label?: string;
  role?: string;
  type?: 'separator';
  accelerator?: string;
  click?: () => void;
  submenu?: MenuItem[];
}

/** The native menu: the usual edit/view/window roles (copy and paste need them on macOS) and the app's screens. */
export function menuTemplate(opts: { platform: NodeJS.Platform; appName: string; go(route: string): void; openDataFolder(): void }): MenuItem[] {
  const mac = opts.platform === 'darwin';
  const screens: [string, string, string][] = [
    ['Dashboard', 'dashboard', 'CmdOrCtrl+1'],
    ['Links', 'links', 'CmdOrCtrl+2'],
    ['Customers', 'customers', 'CmdOrCtrl+3'],
    ['Affiliates', 'affiliates', 'CmdOrCtrl+4'],
    ['Sync', 'sync', 'CmdOrCtrl+5'],
    ['Settings', 'settings', 'CmdOrCtrl+,'],
    ['Set up', 'onboarding', 'CmdOrCtrl+6'],
  ];
  return [
    ...(mac ? [{ label: opts.appName, submenu: [{ role: 'about' }, { type: 'separator' as const }, { role: 'hide' }, { role: 'hideOthers' }, { role: 'unhide' }, { type: 'separator' as const }, { role: 'quit' }] }] : []),
    { label: 'File', submenu: [{ label: 'Open data folder', click: opts.openDataFolder }, { type: 'separator' }, mac ? { role: 'close' } : { role: 'quit' }] },
    { role: 'editMenu' },
    { label: 'Go', submenu: screens.map(([label, route, accelerator]) => ({ label, accelerator, click: () => opts.go(route) })) },
    { label: 'View', submenu: [{ role: 'reload' }, { role: 'toggleDevTools' }, { type: 'separator' }, { role: 'resetZoom' }, { role: 'zoomIn' }, { role: 'zoomOut' }, { type: 'separator' }, { role: 'togglefullscreen' }] },
    { role: 'windowMenu' },
  ];
}
