import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * The data directory of every shell (the app, browser mode, the CLI): --data-dir, else REVTRAIL_HOME, else
 * the platform's place for app data, so a folder written by one is the one the others open.
 */
export function defaultDataDir(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): string {
  if (env.REVTRAIL_HOME) return env.REVTRAIL_HOME;
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'Revtrail');
  if (platform === 'win32') return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), 'Revtrail');
  return join(env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share'), 'revtrail');
}

/** The secrets key lives apart from the data directory, so a copy of the data alone reveals nothing. */
export function defaultSecretKeyFile(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): string {
  if (env.REVTRAIL_SECRET_KEY_FILE) return env.REVTRAIL_SECRET_KEY_FILE;
  if (platform === 'darwin') return join(homedir(), 'Library', 'Preferences', 'Revtrail', 'secrets.key');
  if (platform === 'win32') return join(env.LOCALAPPDATA ?? join(homedir(), 'AppData', 'Local'), 'Revtrail', 'secrets.key');
  return join(env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'revtrail', 'secrets.key');
}
