import t from 'tap';
import { publicAddressesOnly } from '../src/index.js';
import { allowlistEntry, hostAllowed, ipLiteral } from '../src/source/guard.js';
import { pinnedLookup } from '../src/source/http.js';

t.test('address policy', async (t) => {
  const refused: Array<[string, 4 | 6]> = [
    ['127.0.0.1', 4],
    ['127.255.255.254', 4],
    ['10.1.2.3', 4],
    ['172.16.0.1', 4],
    ['172.31.255.255', 4],
    ['192.168.1.1', 4],
    ['169.254.169.254', 4],
    ['100.64.0.1', 4],
    ['100.127.255.255', 4],
    ['0.0.0.0', 4],
    ['224.0.0.251', 4],
    ['239.255.255.250', 4],
    ['240.0.0.1', 4],
    ['255.255.255.255', 4],
    ['198.18.0.1', 4],
    ['::', 6],
    ['::1', 6],
    ['fe80::1', 6],
    ['febf::1', 6],
    ['fc00::1', 6],
    ['fd12:3456::1', 6],
    ['ff02::1', 6],
    ['::ffff:127.0.0.1', 6],
    ['::ffff:8.8.8.8', 6],
    ['64:ff9b::7f00:1', 6],
    ['2002:7f00:1::', 6],
    ['2001:db8::1', 6],
    ['not-an-ip', 4],
    ['1.2.3.4', 6],
  ];
  const allowed: Array<[string, 4 | 6]> = [
    ['8.8.8.8', 4],
    ['1.1.1.1', 4],
    ['172.32.0.1', 4],
    ['100.128.0.1', 4],
    ['2606:4700:4700::1111', 6],
    ['2a00:1450::1', 6],
  ];
  for (const [a, f] of refused) t.notOk(publicAddressesOnly(a, f), `refuses ${a}`);
  for (const [a, f] of allowed) t.ok(publicAddressesOnly(a, f), `allows ${a}`);
});

t.test('IP literals in URL hostnames', async (t) => {
  t.same(ipLiteral(new URL('http://[::ffff:127.0.0.1]/').hostname), { address: '::ffff:7f00:1', family: 6 });
  t.same(ipLiteral(new URL('http://2130706433/').hostname), { address: '127.0.0.1', family: 4 });
  t.equal(ipLiteral('cdn.example.com'), undefined);
});

t.test('the pinned lookup refuses a name resolving to a refused address, and returns what it checked', async (t) => {
  const lookup = pinnedLookup(publicAddressesOnly);
  const err = await new Promise<Error | null>((resolve) => lookup('localhost', { all: true }, (e) => resolve(e)));
  t.equal(err?.name, 'BlockedAddressError');
  const checked: string[] = [];
  const loose = pinnedLookup((address) => (checked.push(address), true));
  const answer = await new Promise<unknown>((resolve) =>
    loose('localhost', { all: false }, (_e, address) => resolve(address)),
  );
  t.ok(checked.includes(answer as string), 'the address handed to connect is one that was checked');
});

t.test('allowlist entries: host, or host:port, normalised as the URL parser spells hosts', async (t) => {
  const cases: Array<[string, string | undefined]> = [
    ['img.example.com', 'img.example.com'],
    [' Img.Example.COM ', 'img.example.com'],
    ['img.example.com:8443', 'img.example.com:8443'],
    ['img.example.com:08443', 'img.example.com:8443'],
    ['img.example.com:443', 'img.example.com:443'], // explicit: port 443 under either scheme
    ['[2001:DB8:0:0::1]', '[2001:db8::1]'],
    ['[2001:db8::1]:8443', '[2001:db8::1]:8443'],
    ['2130706433:80', '127.0.0.1:80'],
    ['img.example.com:0', undefined],
    ['img.example.com:65536', undefined],
    ['img.example.com:', undefined],
    ['img.example.com:https', undefined],
    ['2001:db8::1', undefined], // an unbracketed IPv6 literal cannot be told from host:port
    ['http://img.example.com', undefined],
    ['img.example.com/path', undefined],
    ['', undefined],
  ];
  for (const [text, entry] of cases) t.equal(allowlistEntry(text), entry, JSON.stringify(text));
});

t.test('the allowlist names host and port; a bare host is the scheme default port only', async (t) => {
  const allowed = new Set(['img.example.com', 'cdn.example.com:8443', '[2001:db8::1]:8443', '127.0.0.1:80']);
  const yes = [
    'https://img.example.com/a',
    'https://img.example.com:443/a', // explicit default = the default
    'http://img.example.com/a',
    'http://img.example.com:80/a',
    'https://cdn.example.com:8443/a',
    'http://cdn.example.com:8443/a',
    'https://[2001:db8:0::1]:8443/a',
    'http://127.0.0.1/a', // `:80` named explicitly matches the http default
    'http://2130706433/a',
  ];
  const no = [
    'https://img.example.com:22/a',
    'https://img.example.com:80/a',
    'http://img.example.com:443/a',
    'https://img.example.com:8443/a',
    'https://cdn.example.com/a',
    'http://cdn.example.com/a',
    'https://[2001:db8::1]/a',
    'https://[2001:db8::1]:8444/a',
    'https://127.0.0.1/a',
    'https://other.example.com/a',
  ];
  for (const url of yes) t.ok(hostAllowed(new URL(url), allowed), `allows ${url}`);
  for (const url of no) t.notOk(hostAllowed(new URL(url), allowed), `refuses ${url}`);
});
