import { describe, expect, it } from 'vitest';
import { isAppUrl, navigationVerdict } from './navigation';

const APP = 'file:///Applications/Revtrail.app/Contents/Resources/app/out/renderer/index.html';

describe('navigationVerdict', () => {
  it.each([
    [`${APP}#/links`, 'allow'],
    [APP, 'allow'],
    ['https://dashboard.stripe.com/apikeys/create?name=x', 'external'],
    ['http://127.0.0.1:8787/spring', 'external'],
    ['file:///etc/passwd', 'deny'],
    ['file:///Applications/Revtrail.app/Contents/Resources/app/out/renderer/other.html', 'deny'],
    ['javascript:alert(1)', 'deny'],
    ['data:text/html,<script>1</script>', 'deny'],
    ['mailto:x@example.com', 'deny'],
    ['not a url', 'deny'],
  ])('%s -> %s', (url, verdict) => {
    expect(navigationVerdict(url, APP)).toBe(verdict);
  });

  it('in development the dev server page is the app, other ports are not', () => {
    const dev = 'http://localhost:5173/';
    expect(navigationVerdict('http://localhost:5173/#/sync', dev)).toBe('allow');
    expect(isAppUrl('http://localhost:5174/', dev)).toBe(false);
    expect(isAppUrl('https://evil.example/', APP)).toBe(false);
  });
});
