import { describe, expect, it } from 'vitest';
import { menuTemplate, type MenuItem } from './menu';

const labels = (items: MenuItem[]) => items.map((i) => i.label ?? i.role);

describe('menuTemplate', () => {
  it('has the app menu on macOS only, and a Go menu that navigates', () => {
    const went: string[] = [];
    const opts = { appName: 'Revtrail', go: (r: string) => went.push(r), openDataFolder: () => undefined };
    expect(labels(menuTemplate({ ...opts, platform: 'darwin' }))).toEqual(['Revtrail', 'File', 'editMenu', 'Go', 'View', 'windowMenu']);
    const linux = menuTemplate({ ...opts, platform: 'linux' });
    expect(labels(linux)).toEqual(['File', 'editMenu', 'Go', 'View', 'windowMenu']);
    for (const item of linux.find((m) => m.label === 'Go')!.submenu!) item.click!();
    expect(went).toEqual(['dashboard', 'links', 'customers', 'affiliates', 'sync', 'settings', 'onboarding']);
  });
});
