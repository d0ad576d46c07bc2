/**
 * What the window does with a URL it is asked to open or navigate to: stay on the app's own page, hand a
 * web address to the system browser, or refuse.
 */
export function navigationVerdict(target: string, appUrl: string): 'allow' | 'external' | 'deny' {
  if (!URL.canParse(target)) return 'deny';
  const url = new URL(target);
  const app = new URL(appUrl);
  // In-app routes only change the hash of the one page.
  if (url.protocol === app.protocol && url.host === app.host && url.pathname === app.pathname) return 'allow';
  if (url.protocol === 'https:' || url.protocol === 'http:') return 'external';
  return 'deny';
}

/** Whether an IPC call comes from the app's own page (any in-app route of it). */
export function isAppUrl(frameUrl: string, appUrl: string): boolean {
  return navigationVerdict(frameUrl, appUrl) === 'allow';
}
