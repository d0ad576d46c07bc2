import { describe, expect, it } from 'vitest';
import { checkDestination, destinationRulesFor, type DestinationRule, type DestinationRules } from './destination';

const DEPLOYED: DestinationRules = { self: ['https://go.brand.com'], allowPrivate: false };
const LOCAL: DestinationRules = { self: ['http://127.0.0.1:8787'], allowPrivate: false };
const LOCAL_OPEN: DestinationRules = { self: ['http://127.0.0.1:8787'], allowPrivate: true };

const rulesOf = { DEPLOYED, LOCAL, LOCAL_OPEN };
type Where = keyof typeof rulesOf;

describe('checkDestination refuses', () => {
  const refused: [string, Where, DestinationRule][] = [
    // What the issue measured: the tracking host again, through another spelling.
    ['https://go.brand.com/x', 'DEPLOYED', 'self'],
    ['https://go.brand.com./x', 'DEPLOYED', 'self'],
    ['https://go.brand.com%2E/x', 'DEPLOYED', 'self'],
    ['https://GO.Brand.COM/x', 'DEPLOYED', 'self'],
    ['https://go%2Ebrand.com/x', 'DEPLOYED', 'self'],
    ['http://go.brand.com:8080/x', 'DEPLOYED', 'self'],
    ['https://go.brand.com../x', 'DEPLOYED', 'self'],
    ['http://localhost:8787/x', 'LOCAL', 'self'],
    ['http://LOCALHOST.:8787/x', 'LOCAL', 'self'],
    ['http://127.0.0.1:8787/x', 'LOCAL', 'self'],
    ['http://[::1]:8787/x', 'LOCAL', 'self'],
    ['http://[::ffff:127.0.0.1]:8787/x', 'LOCAL', 'self'],
    ['http://0.0.0.0:8787/x', 'LOCAL', 'self'],
    ['http://2130706433:8787/x', 'LOCAL', 'self'],
    ['http://127.1:8787/x', 'LOCAL', 'self'],
    ['http://0x7f.0.0.1:8787/x', 'LOCAL', 'self'],
    ['http://017700000001:8787/', 'LOCAL', 'self'],
    ['http://app.localhost:8787/', 'LOCAL', 'self'],
    ['http://[::]:8787/', 'LOCAL', 'self'],
    // allowPrivate never lifts the self rule.
    ['http://localhost:8787/x', 'LOCAL_OPEN', 'self'],
    ['http://[::1]:8787/x', 'LOCAL_OPEN', 'self'],
    // Stored as typed, redirected elsewhere.
    ['https://example.com\t.evil.com/', 'DEPLOYED', 'control-characters'],
    ['https://example.com/\r\nSet-Cookie: a=b', 'DEPLOYED', 'control-characters'],
    ['https://example.com/\n', 'DEPLOYED', 'control-characters'],
    ['https://example.com/\u0000', 'DEPLOYED', 'control-characters'],
    ['https://example.com/\u007f', 'DEPLOYED', 'control-characters'],
    ['\u0001https://example.com/', 'DEPLOYED', 'control-characters'],
    ['https://evil.com\\@example.com/', 'DEPLOYED', 'backslash'],
    ['https:\\\\evil.com/', 'DEPLOYED', 'backslash'],
    ['https://user:pw@brand.com/', 'DEPLOYED', 'userinfo'],
    ['https://brand.com@evil.com/', 'DEPLOYED', 'userinfo'],
    ['https://@brand.com/', 'DEPLOYED', 'userinfo'],
    ['javascript:alert(1)', 'DEPLOYED', 'scheme'],
    ['data:text/html,hi', 'DEPLOYED', 'scheme'],
    ['ftp://brand.com/', 'DEPLOYED', 'scheme'],
    ['//evil.com', 'DEPLOYED', 'not-a-url'],
    ['/relative', 'DEPLOYED', 'not-a-url'],
    ['https://', 'DEPLOYED', 'not-a-url'],
    ['https://[::1/', 'DEPLOYED', 'not-a-url'],
    [`https://brand.com/${'a'.repeat(2100)}`, 'DEPLOYED', 'length'],
    // Private networks, from a deployed redirector.
    ['http://localhost/', 'DEPLOYED', 'private-network'],
    ['http://localhost:3000/', 'LOCAL', 'private-network'],
    ['http://LOCALHOST./', 'DEPLOYED', 'private-network'],
    ['http://shop.localhost/', 'DEPLOYED', 'private-network'],
    ['http://127.0.0.1/', 'DEPLOYED', 'private-network'],
    ['http://127.255.0.9/', 'DEPLOYED', 'private-network'],
    ['http://2130706433/', 'DEPLOYED', 'private-network'],
    ['http://0.0.0.0/', 'DEPLOYED', 'private-network'],
    ['http://0/', 'DEPLOYED', 'private-network'],
    ['http://[::1]/', 'DEPLOYED', 'private-network'],
    ['http://[::]/', 'DEPLOYED', 'private-network'],
    ['http://[::ffff:127.0.0.1]/', 'DEPLOYED', 'private-network'],
    ['http://[::ffff:10.1.2.3]/', 'DEPLOYED', 'private-network'],
    ['http://[0:0:0:0:0:ffff:c0a8:101]/', 'DEPLOYED', 'private-network'],
    ['http://[::127.0.0.1]/', 'DEPLOYED', 'private-network'],
    ['http://[64:ff9b::10.0.0.1]/', 'DEPLOYED', 'private-network'],
    ['http://[64:ff9b:1::1]/', 'DEPLOYED', 'private-network'],
    ['http://[2002:c0a8:101::1]/', 'DEPLOYED', 'private-network'],
    ['http://10.0.0.5/', 'DEPLOYED', 'private-network'],
    ['http://10.1/', 'DEPLOYED', 'private-network'],
    ['http://172.16.0.1/', 'DEPLOYED', 'private-network'],
    ['http://172.31.255.254/', 'DEPLOYED', 'private-network'],
    ['http://192.168.1.1/', 'DEPLOYED', 'private-network'],
    ['http://3232235777/', 'DEPLOYED', 'private-network'],
    ['http://100.64.0.1/', 'DEPLOYED', 'private-network'],
    ['http://169.254.1.1/', 'DEPLOYED', 'private-network'],
    ['http://[fe80::1]/', 'DEPLOYED', 'private-network'],
    ['http://[fc00::1]/', 'DEPLOYED', 'private-network'],
    ['http://[fd12:3456::1]/', 'DEPLOYED', 'private-network'],
    ['http://[ff02::1]/', 'DEPLOYED', 'private-network'],
    ['http://224.0.0.1/', 'DEPLOYED', 'private-network'],
    ['http://255.255.255.255/', 'DEPLOYED', 'private-network'],
    ['http://intranet/', 'DEPLOYED', 'private-network'],
    ['http://printer.local/', 'DEPLOYED', 'private-network'],
    ['http://nas.home.arpa/', 'DEPLOYED', 'private-network'],
    ['http://db.corp.internal/', 'DEPLOYED', 'private-network'],
    // Cloud metadata: refused everywhere, whatever the setting.
    ['http://169.254.169.254/latest/meta-data/', 'DEPLOYED', 'cloud-metadata'],
    ['http://169.254.169.254/latest/meta-data/', 'LOCAL_OPEN', 'cloud-metadata'],
    ['http://2852039166/', 'DEPLOYED', 'cloud-metadata'],
    ['http://[::ffff:169.254.169.254]/', 'LOCAL_OPEN', 'cloud-metadata'],
    ['http://[fd00:ec2::254]/', 'LOCAL_OPEN', 'cloud-metadata'],
    ['http://metadata.google.internal/computeMetadata/v1/', 'LOCAL_OPEN', 'cloud-metadata'],
    ['http://metadata.google.internal./', 'DEPLOYED', 'cloud-metadata'],
    ['http://instance-data/', 'DEPLOYED', 'cloud-metadata'],
    ['http://100.100.100.200/', 'DEPLOYED', 'cloud-metadata'],
  ];

  it.each(refused)('%j on %s by the %s rule', (raw, where, rule) => {
    const verdict = checkDestination(raw, rulesOf[where]);
    expect(verdict).toMatchObject({ ok: false, rule });
    if (!verdict.ok) expect(verdict.message).toContain(`refused by the ${rule} rule: `);
  });

  it('tells what to do about a private address, and says the self rule is the tracking domain', () => {
    const priv = checkDestination('http://localhost:3000/', LOCAL);
    expect(!priv.ok && priv.message).toContain('use the public address of the page');
    expect(!priv.ok && priv.message).toContain('REVTRAIL_ALLOW_PRIVATE_DESTINATIONS=true');
    const self = checkDestination('https://go.brand.com./x', DEPLOYED);
    expect(!self.ok && self.message).toContain('tracking domain');
  });
});

describe('checkDestination accepts, in serialised form', () => {
  const accepted: [string, Where, string][] = [
    ['https://brand.com/pricing?x=1', 'DEPLOYED', 'https://brand.com/pricing?x=1'],
    ['https://Brand.COM', 'DEPLOYED', 'https://brand.com/'],
    ['https://brand.com/a b', 'DEPLOYED', 'https://brand.com/a%20b'],
    ['https://bücher.example/', 'DEPLOYED', 'https://xn--bcher-kva.example/'],
    ['https://brand.com/p?q=a\\b', 'DEPLOYED', 'https://brand.com/p?q=a\\b'],
    ['https://brand.com/x@y', 'DEPLOYED', 'https://brand.com/x@y'],
    ['https://brand.com/#frag@x', 'DEPLOYED', 'https://brand.com/#frag@x'],
    ['https://www.go.brand.com/', 'DEPLOYED', 'https://www.go.brand.com/'],
    ['https://brand.com:8443/', 'DEPLOYED', 'https://brand.com:8443/'],
    ['http://8.8.8.8/', 'DEPLOYED', 'http://8.8.8.8/'],
    ['http://[2606:4700::1111]/', 'DEPLOYED', 'http://[2606:4700::1111]/'],
    ['http://[::ffff:8.8.8.8]/', 'DEPLOYED', 'http://[::ffff:808:808]/'],
    ['http://172.32.0.1/', 'DEPLOYED', 'http://172.32.0.1/'],
    ['http://100.128.0.1/', 'DEPLOYED', 'http://100.128.0.1/'],
    // A local redirector with the setting: a site on this machine, on another port.
    ['http://localhost:3000/', 'LOCAL_OPEN', 'http://localhost:3000/'],
    ['http://127.0.0.1:3000/pricing', 'LOCAL_OPEN', 'http://127.0.0.1:3000/pricing'],
    ['http://[::1]:3000/', 'LOCAL_OPEN', 'http://[::1]:3000/'],
    ['http://192.168.1.20/', 'LOCAL_OPEN', 'http://192.168.1.20/'],
    ['https://go.brand.com/', 'LOCAL', 'https://go.brand.com/'],
  ];

  it.each(accepted)('%j on %s', (raw, where, url) => {
    expect(checkDestination(raw, rulesOf[where])).toEqual({ ok: true, url });
  });

  it('is idempotent: a serialised destination passes again unchanged', () => {
    for (const [, where, url] of accepted) expect(checkDestination(url, rulesOf[where])).toEqual({ ok: true, url });
  });

  it('checks against every address the redirector answers on', () => {
    const both = { self: ['https://go.brand.com', 'https://abc.lambda-url.us-east-1.on.aws'], allowPrivate: false };
    expect(checkDestination('https://abc.lambda-url.us-east-1.on.aws./x', both)).toMatchObject({ ok: false, rule: 'self' });
    expect(checkDestination('https://brand.com/', { self: [], allowPrivate: false })).toEqual({ ok: true, url: 'https://brand.com/' });
  });
});

describe('destinationRulesFor', () => {
  it.each([
    ['http://127.0.0.1:8787', true],
    ['http://localhost:8787', true],
    ['http://[::1]:8787', true],
    ['https://go.brand.com', false],
    [null, false],
  ])('%s allows private destinations: %s', (url, allowPrivate) => {
    expect(destinationRulesFor(url)).toEqual({ self: url ? [url] : [], allowPrivate });
  });
});
