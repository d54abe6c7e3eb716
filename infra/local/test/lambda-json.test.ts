import t from 'tap';
import { isJsonText } from '../lambda/json.js';

/** The reference: what Lambda's 400 InvalidRequestContentException stands in for locally. */
function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

t.test('isJsonText accepts exactly what JSON.parse accepts', async (t) => {
  const cases = [
    // Scalars at the top level are JSON too.
    '0',
    '-0',
    '1.5',
    '1e5',
    '1E+5',
    '-2.5e-3',
    '"text"',
    'true',
    'false',
    'null',
    ' \t\n\r{} \n',
    '{}',
    '[]',
    '{"a":1}',
    '{ "a" : [ 1 , 2 , { "b" : null } ] }',
    '[[[[]]]]',
    '{"a":{"b":[1,{"c":""}]}}',
    '"\\u00e9\\n\\t\\"\\\\\\/\\b\\f\\r"',
    '"\ud800"',
    '{"__proto__":1}',
    '{"a":1,"a":2}',
    // Not JSON.
    '',
    ' ',
    '{',
    '}',
    '[1,]',
    '{"a":1,}',
    '[,1]',
    '{,}',
    '{"a" 1}',
    '{"a":}',
    '{1:2}',
    "{'a':1}",
    '[1 2]',
    '01',
    '1.',
    '.5',
    '+1',
    '1e',
    '-',
    '--1',
    '0x10',
    'NaN',
    'Infinity',
    'tru',
    'nul',
    'True',
    '"',
    '"\\x"',
    '"\\u12"',
    '"\\u12G4"',
    '"a\tb"',
    '"a\nb"',
    '"\u0000"',
    '\u00a0{}',
    '{}x',
    '{} {}',
    '[-]',
    '[1]]',
    '[[1]',
    '{"a":1}}',
  ];
  for (const text of cases) t.equal(isJsonText(text), parses(text), JSON.stringify(text));
});

t.test('isJsonText agrees with JSON.parse on mutated documents', async (t) => {
  const seeds = [
    JSON.stringify({
      v: 1,
      id: 'r-1',
      source: { s3: { bucket: 'sources', key: 'a/b.jpg' } },
      spec: { width: 342, height: 192, fit: 'cover', quality: 80 },
    }),
    JSON.stringify({ a: [1, -2.5e3, 'x\\"y\u0001', true, false, null, {}, [], [[0.5]]], 'k\n': '\u00e9' }),
  ];
  const alphabet = '{}[]:," \\ 0123456789-+.eEtrufalsnx\t\n\u0001';
  let seed = 1;
  const random = (n: number) => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n;
  let disagreements = 0;
  for (let k = 0; k < 50_000; k++) {
    let text = seeds[random(seeds.length)] as string;
    for (let edits = random(3) + 1; edits > 0; edits--) {
      const at = random(text.length + 1);
      const ch = alphabet[random(alphabet.length)] as string;
      const op = random(3);
      text =
        op === 0
          ? text.slice(0, at) + ch + text.slice(at)
          : op === 1
            ? text.slice(0, at) + text.slice(at + 1)
            : text.slice(0, at) + ch + text.slice(at + 1);
    }
    if (isJsonText(text) !== parses(text)) {
      disagreements++;
      t.fail(`disagrees on ${JSON.stringify(text)}`);
      if (disagreements > 5) break;
    }
  }
  t.equal(disagreements, 0);
});

t.test('large and hostile payloads are checked in linear time, without recursion', async (t) => {
  const deep = `${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}`;
  t.equal(isJsonText(deep), true, 'a million nested arrays');
  t.equal(isJsonText('['.repeat(1_000_000)), false, 'never closed');
  t.equal(isJsonText(`{"s":"${'a'.repeat(6_000_000)}`), false, 'an unterminated 6 MB string');
  t.equal(
    isJsonText(`{"s":"${'a\\"'.repeat(2_000_000)}\u0001"}`),
    false,
    'a control character after 2 million escapes',
  );
  t.equal(isJsonText(JSON.stringify({ body: 'A'.repeat(6_000_000) })), true, 'a 6 MB string');
});
