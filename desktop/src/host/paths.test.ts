import { homedir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultDataDir } from './paths';

// The app, browser mode and the CLI all take their folder from here: one folder, the same connections.
describe('defaultDataDir', () => {
  it('is REVTRAIL_HOME when set, on every platform', () => {
    for (const platform of ['linux', 'darwin', 'win32'] as const) expect(defaultDataDir({ REVTRAIL_HOME: '/data/rt' }, platform)).toBe('/data/rt');
  });

  it("is the platform's place for app data otherwise", () => {
    expect(defaultDataDir({}, 'linux')).toBe(join(homedir(), '.local', 'share', 'revtrail'));
    expect(defaultDataDir({ XDG_DATA_HOME: '/xdg' }, 'linux')).toBe(join('/xdg', 'revtrail'));
    expect(defaultDataDir({}, 'darwin')).toBe(join(homedir(), 'Library', 'Application Support', 'Revtrail'));
    expect(defaultDataDir({ APPDATA: 'C:\\Users\\a\\AppData\\Roaming' }, 'win32')).toBe(join('C:\\Users\\a\\AppData\\Roaming', 'Revtrail'));
  });
});
