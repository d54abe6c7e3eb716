import t from 'tap';
import { stringify } from 'yaml';
import { isRulesError, parseCatalog, parseRules, RulesError } from '../../src/rules/load.js';
import { at, CATALOG_TEXT, catalogDoc, list, RULES_TEXT, rulesDoc, type Doc } from './fixtures.js';

/** The RulesError a document raises (failing the test when it parses). */
function refusal(parse: () => unknown): RulesError {
  try {
    parse();
  } catch (err) {
    if (isRulesError(err)) return err;
    throw err;
  }
  throw new Error('expected the document to be refused');
}

t.test('the shipped rules.yaml and the seed-format catalog load', async (t) => {
  const rules = parseRules(RULES_TEXT, 'rules.yaml');
  t.same(Object.keys(rules.types), ['boxshot', 'billboard', 'logo']);
  t.equal(rules.defaultLocale, 'en');
  t.same(rules.localeFallback?.['pt-BR'], ['pt', 'en']);
  t.same(rules.dpr, [1, 2, 3]);
  t.same(
    rules.types.boxshot?.overlays?.map((o) => o.source),
    ['badges/top10.png', 'badges/new.png'],
  );
  t.same(rules.types.logo?.formats, ['avif', 'webp', 'png']);
  t.same(rules.types.logo?.ladder, { minWidth: 75, ratio: 1.26 });
  for (const [name, type] of Object.entries(rules.types))
    t.equal(type.enlarge, false, `${name} says it may not be enlarged`);
  // AVIF at sharp's default effort costs over a second per 720p image: the defaults must keep it low.
  t.ok((rules.encoding?.avif?.effort ?? 9) <= 3, 'AVIF effort is low');

  const catalog = parseCatalog(CATALOG_TEXT, 'catalog.json');
  t.equal(catalog.titles['80000001']?.name, 'The Long Night');
  t.same(catalog.titles['80000001']?.artwork.boxshot?.en?.focal, { x: 0.5, y: 0.32 });
});

/** One broken field of the default rules: [name, edit, expected JSON pointer, message pattern]. */
const ruleCases: Array<[string, (doc: Doc) => void, string, RegExp]> = [
  [
    'size not WxH',
    (d) => (list(d, 'types', 'boxshot', 'sizes')[1] = '342-513'),
    '/types/boxshot/sizes/1',
    /expected WxH like 342x513, got "342-513"/,
  ],
  [
    'wrong type for a number',
    (d) => (at(d, 'types', 'boxshot').maxWidth = 'big'),
    '/types/boxshot/maxWidth',
    /expected an integer.*got "big"/,
  ],
  ['fractional pixels', (d) => (at(d, 'types', 'logo').maxHeight = 400.5), '/types/logo/maxHeight', /integer/],
  [
    'unknown size policy',
    (d) => (at(d, 'types', 'logo').sizePolicy = 'anything'),
    '/types/logo/sizePolicy',
    /one of snap, strict, any/,
  ],
  [
    'any without a ladder',
    (d) => delete at(d, 'types', 'logo').ladder,
    '/types/logo/ladder',
    /is required with sizePolicy: any/,
  ],
  [
    'ladder ratio of 1',
    (d) => (at(d, 'types', 'logo', 'ladder').ratio = 1),
    '/types/logo/ladder/ratio',
    /expected a ratio 1.05..2, got 1/,
  ],
  [
    'ladder of zero width',
    (d) => (at(d, 'types', 'logo', 'ladder').minWidth = 0),
    '/types/logo/ladder/minWidth',
    /pixels 1\.\./,
  ],
  [
    'unknown ladder field',
    (d) => (at(d, 'types', 'logo', 'ladder').step = 10),
    '/types/logo/ladder/step',
    /unknown field/,
  ],
  [
    'ladder of too many sizes',
    (d) => (at(d, 'types', 'logo').ladder = { minWidth: 1, ratio: 1.05 }),
    '/types/logo/ladder',
    /allows \d+ renders per title, locale and format, over the limit of 100/,
  ],
  [
    'enlarge not a boolean',
    (d) => (at(d, 'types', 'boxshot').enlarge = 'no'),
    '/types/boxshot/enlarge',
    /expected true or false, got "no"/,
  ],
  [
    'unknown crop policy',
    (d) => (at(d, 'types', 'boxshot').crop = 'faces'),
    '/types/boxshot/crop',
    /one of focal, attention, centre/,
  ],
  [
    'unknown format',
    (d) => (at(d, 'types', 'boxshot').formats = ['avif', 'gif']),
    '/types/boxshot/formats/1',
    /one of avif, webp, jpeg, png/,
  ],
  ['empty formats', (d) => (at(d, 'types', 'boxshot').formats = []), '/types/boxshot/formats', /non-empty/],
  [
    'duplicate format',
    (d) => (at(d, 'types', 'boxshot').formats = ['webp', 'webp']),
    '/types/boxshot/formats/1',
    /duplicate/,
  ],
  ['empty sizes', (d) => (at(d, 'types', 'billboard').sizes = []), '/types/billboard/sizes', /non-empty/],
  [
    'size outside max',
    (d) => list(d, 'types', 'boxshot', 'sizes').push('2100x3150'),
    '/types/boxshot/sizes/3',
    /outside the type's max 2052x3078/,
  ],
  [
    'size off the aspect',
    (d) => (list(d, 'types', 'billboard', 'sizes')[0] = '480x300'),
    '/types/billboard/sizes/0',
    /not on the aspect 16:9/,
  ],
  [
    'duplicate size',
    (d) => list(d, 'types', 'billboard', 'sizes').push('480x270'),
    '/types/billboard/sizes/4',
    /duplicate/,
  ],
  ['bad aspect', (d) => (at(d, 'types', 'boxshot').aspect = '2/3'), '/types/boxshot/aspect', /expected W:H like 2:3/],
  ['missing field', (d) => delete at(d, 'types', 'logo').formats, '/types/logo/formats', /is required/],
  ['unknown field (a typo)', (d) => (at(d, 'types', 'boxshot').fitt = 'cover'), '/types/boxshot/fitt', /unknown field/],
  [
    'unknown fit',
    (d) => (at(d, 'types', 'logo').fit = 'stretch'),
    '/types/logo/fit',
    /one of cover, contain, inside, fill, got "stretch"/,
  ],
  ['bad background', (d) => (at(d, 'types', 'logo').background = 'transparent'), '/types/logo/background', /#rrggbbaa/],
  [
    'quality out of range',
    (d) => (at(d, 'encoding', 'jpeg').quality = 101),
    '/encoding/jpeg/quality',
    /quality 1..100, got 101/,
  ],
  ['effort out of range', (d) => (at(d, 'encoding', 'avif').effort = 10), '/encoding/avif/effort', /effort 0..9/],
  [
    'encoding for an unknown class',
    (d) => (at(d, 'encoding', 'avif', 'sizeClasses').huge = { quality: 30 }),
    '/encoding/avif/sizeClasses/huge',
    /unknown size class/,
  ],
  [
    'type encoding for an unknown class',
    (d) => (at(d, 'types', 'logo').encoding = { png: { sizeClasses: { xl: { effort: 1 } } } }),
    '/types/logo/encoding/png/sizeClasses/xl',
    /unknown size class/,
  ],
  [
    'a format with no quality anywhere',
    (d) => delete at(d, 'encoding').png,
    '/types/logo/formats/2',
    /no quality for png/,
  ],
  ['size classes not ascending', (d) => (at(d, 'sizeClasses', 1).maxWidth = 400), '/sizeClasses/1/maxWidth', /ascend/],
  [
    'open-ended class not last',
    (d) => delete at(d, 'sizeClasses', 0).maxWidth,
    '/sizeClasses/0/maxWidth',
    /only the last/,
  ],
  ['last class bounded', (d) => (at(d, 'sizeClasses', 2).maxWidth = 4000), '/sizeClasses/2/maxWidth', /leave out/],
  ['duplicate class', (d) => (at(d, 'sizeClasses', 1).name = 'small'), '/sizeClasses/1/name', /duplicate/],
  ['bad default locale', (d) => (d.defaultLocale = 'english!'), '/defaultLocale', /locale/],
  ['bad fallback key', (d) => (at(d, 'localeFallback')['pt_BR'] = ['pt']), '/localeFallback/pt_BR', /locale/],
  [
    'bad fallback entry',
    (d) => (at(d, 'localeFallback')['pt-BR'] = ['pt', 'en-']),
    '/localeFallback/pt-BR/1',
    /locale/,
  ],
  [
    'duplicate fallback key by case',
    (d) => (at(d, 'localeFallback')['PT-br'] = ['en']),
    '/localeFallback/PT-br',
    /duplicate/,
  ],
  ['dpr out of range', (d) => (d.dpr = [1, 5]), '/dpr/1', /DPR 1..4/],
  [
    'empty overlay source',
    (d) => (at(d, 'types', 'boxshot', 'overlays', 0).source = ''),
    '/types/boxshot/overlays/0/source',
    /source key/,
  ],
  [
    'absolute overlay source',
    (d) => (at(d, 'types', 'boxshot', 'overlays', 0).source = '/badges/top10.png'),
    '/types/boxshot/overlays/0/source',
    /key in the sources bucket/,
  ],
  [
    'overlay scale 0',
    (d) => (at(d, 'types', 'boxshot', 'overlays', 0).scale = 0),
    '/types/boxshot/overlays/0/scale',
    /fraction/,
  ],
  [
    'overlay gravity',
    (d) => (at(d, 'types', 'boxshot', 'overlays', 0).gravity = 'top'),
    '/types/boxshot/overlays/0/gravity',
    /one of north, northeast.*got "top"/,
  ],
  [
    'too many overlays',
    (d) => (at(d, 'types', 'boxshot').overlays = Array<unknown>(5).fill(at(d, 'types', 'boxshot', 'overlays', 0))),
    '/types/boxshot/overlays',
    /at most 4/,
  ],
  ['negative max-age', (d) => (at(d, 'cache').maxAge = -1), '/cache/maxAge', /seconds/],
  [
    'type cache without immutableMaxAge',
    (d) => (at(d, 'types', 'logo').cache = { maxAge: 60 }),
    '/types/logo/cache/immutableMaxAge',
    /is required/,
  ],
  [
    'type name not a URL segment',
    (d) => (at(d, 'types')['Box Shot'] = at(d, 'types', 'boxshot')),
    '/types/Box Shot',
    /lower-case/,
  ],
  ['no types', (d) => (d.types = {}), '/types', /at least one/],
  ['unsupported version', (d) => (d.version = 2), '/version', /expected 1/],
];

t.test('a broken rules document names the field', async (t) => {
  for (const [name, edit, path, message] of ruleCases) {
    const doc = rulesDoc();
    edit(doc);
    const text = stringify(doc);
    const err = refusal(() => parseRules(text, 'rules.yaml'));
    t.equal(err.path, path, `${name}: path`);
    t.match(err.message, message, `${name}: message`);
    t.ok(err.message.startsWith(`rules.yaml: ${path}: `), `${name}: "document: field: detail"`);
    t.equal(err.document, 'rules.yaml');
  }
});

t.test('YAML syntax errors carry the line', async (t) => {
  const cases: Array<[string, string, number]> = [
    ['bad indentation', 'version: 1\ndefaultLocale: en\n  dpr: [1, 2\n', 2],
    ['unclosed flow sequence', 'version: 1\ndpr: [1, 2\ntypes: {}\n', 3],
    ['duplicate key', 'version: 1\ndefaultLocale: en\ndefaultLocale: fr\n', 3],
    ['tab indentation', 'version: 1\ntypes:\n\tboxshot: {}\n', 3],
  ];
  for (const [name, text, line] of cases) {
    const err = refusal(() => parseRules(text, 'rules.yaml'));
    t.match(err.message, new RegExp(`^rules\\.yaml: YAML syntax error at line ${line}, column \\d+: \\S`), name);
    t.notMatch(err.message, /\n/, `${name}: one line`);
  }
  const broken = RULES_TEXT.replace('  avif:\n    quality: 50', '  avif:\n    quality: 50\n   effort: 2');
  const lineOf = broken.split('\n').findIndex((l) => l === '   effort: 2') + 1;
  t.match(
    refusal(() => parseRules(broken, 'config/rules.yaml')).message,
    new RegExp(`line ${lineOf}\\b`),
    'a real edit gone wrong, deep in the file',
  );
});

t.test('empty and non-mapping documents', async (t) => {
  for (const text of ['', '# only a comment\n', '- a\n- b\n', '42\n']) {
    const err = refusal(() => parseRules(text, 'rules.yaml'));
    t.equal(err.path, '', JSON.stringify(text));
    t.match(err.message, /expected a mapping/);
  }
});

const catalogCases: Array<[string, (doc: Doc) => void, string, RegExp]> = [
  [
    'missing source',
    (d) => delete at(d, 'titles', '80000001', 'artwork', 'boxshot', 'en').source,
    '/titles/80000001/artwork/boxshot/en/source',
    /required/,
  ],
  [
    'numeric version',
    (d) => (at(d, 'titles', '80000001', 'artwork', 'boxshot', 'en').version = 1),
    '/titles/80000001/artwork/boxshot/en/version',
    /version string, got 1/,
  ],
  [
    'focal outside 0..1',
    (d) => (at(d, 'titles', '80000001', 'artwork', 'boxshot', 'en', 'focal').y = 1.2),
    '/titles/80000001/artwork/boxshot/en/focal/y',
    /0..1, got 1.2/,
  ],
  [
    'bad title id',
    (d) => (at(d, 'titles')['8000 0001'] = at(d, 'titles', '80000001')),
    '/titles/8000 0001',
    /title ids/,
  ],
  [
    'title id too long',
    (d) => (at(d, 'titles')['x'.repeat(65)] = at(d, 'titles', '80000001')),
    `/titles/${'x'.repeat(65)}`,
    /title ids/,
  ],
  [
    'bad locale key',
    (d) =>
      (at(d, 'titles', '80000002', 'artwork', 'boxshot')['pt_BR'] = at(
        d,
        'titles',
        '80000002',
        'artwork',
        'boxshot',
        'pt',
      )),
    '/titles/80000002/artwork/boxshot/pt_BR',
    /locale/,
  ],
  [
    'locales equal but for case',
    (d) =>
      (at(d, 'titles', '80000001', 'artwork', 'boxshot')['PT-br'] = at(
        d,
        'titles',
        '80000001',
        'artwork',
        'boxshot',
        'en',
      )),
    '/titles/80000001/artwork/boxshot/PT-br',
    /duplicate/,
  ],
  ['flags not a list', (d) => (at(d, 'titles', '80000001').flags = 'top10'), '/titles/80000001/flags', /list of flags/],
  [
    'unknown field',
    (d) => (at(d, 'titles', '80000001', 'artwork', 'boxshot', 'en').crop = 'x'),
    '/titles/80000001/artwork/boxshot/en/crop',
    /unknown field/,
  ],
  ['no name', (d) => delete at(d, 'titles', '80000003').name, '/titles/80000003/name', /required/],
  ['wrong version', (d) => (d.version = '1'), '/version', /expected 1/],
];

t.test('a broken catalog names the field', async (t) => {
  for (const [name, edit, path, message] of catalogCases) {
    const doc = catalogDoc();
    edit(doc);
    const err = refusal(() => parseCatalog(JSON.stringify(doc), 'catalog.json'));
    t.equal(err.path, path, `${name}: path`);
    t.match(err.message, message, `${name}: message`);
  }
  const syntax = refusal(() => parseCatalog('{\n  "version": 1,\n  "titles": {\n    "1" 2\n  }\n}', 'catalog.json'));
  t.match(
    syntax.message,
    /^catalog\.json: JSON syntax error at line 4, column \d+/,
    'JSON syntax errors carry the line',
  );
  t.match(refusal(() => parseCatalog('', 'catalog.json')).message, /JSON syntax error/);
  t.match(refusal(() => parseCatalog('[]', 'catalog.json')).message, /expected a mapping/);
});

t.test('RulesError is an operator error, not a request error', async (t) => {
  const err = refusal(() => parseRules('version: 2', 's3://rules/rules.yaml'));
  t.type(err, RulesError);
  t.equal(err.name, 'RulesError');
  t.notOk('status' in err, 'no HTTP status: it never reaches a client');
  t.equal(err.document, 's3://rules/rules.yaml');
});
