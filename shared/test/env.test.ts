import t from 'tap';
import {
  BucketVar,
  ConfigError,
  HttpUrlVar,
  LogLevelVar,
  Type,
  childEnv,
  configOrExit,
  describeEnv,
  parseEnv,
  readEnv,
  unknownVariables,
} from '../src/index.js';

const Schema = Type.Object({
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 8080, description: 'where it listens' }),
  MARQUEE_MAX_INFLIGHT: Type.Integer({ minimum: 1, default: 32 }),
  MARQUEE_RATIO: Type.Number({ minimum: 0, maximum: 1, default: 0.5 }),
  MARQUEE_ON: Type.Boolean({ default: false }),
  LOG_LEVEL: LogLevelVar({ default: 'info' }),
  MARQUEE_MODE: Type.Union([Type.Literal('fast'), Type.Literal('safe')], { default: 'safe' }),
  MARQUEE_BUCKETS: Type.Optional(Type.Array(BucketVar())),
  MARQUEE_PORTS: Type.Array(Type.Integer({ minimum: 1, maximum: 65535 }), { default: [] }),
  MARQUEE_ENDPOINT: Type.Optional(HttpUrlVar()),
  MARQUEE_KEY: Type.Optional(Type.String({ minLength: 16, secret: true })),
  MARQUEE_NAME: Type.Optional(Type.String({ pattern: '^[a-z]+$', expected: 'lower-case letters' })),
  MARQUEE_UPPER: Type.Optional(
    Type.String({
      parse: (text: string) => (/^[a-z]+$/.test(text) ? text.toUpperCase() : undefined),
      expected: 'a word',
    }),
  ),
});

/** The error line for one variable set to one value. */
function problemFor(name: string, value: string): string {
  const { problems } = parseEnv(Schema, { [name]: value });
  return problems.length === 1 ? (problems[0] as string) : `${problems.length} problems: ${problems.join(' | ')}`;
}

t.test('defaults: unset and empty variables take them; optional ones stay undefined', async (t) => {
  const expected = {
    PORT: 8080,
    MARQUEE_MAX_INFLIGHT: 32,
    MARQUEE_RATIO: 0.5,
    MARQUEE_ON: false,
    LOG_LEVEL: 'info',
    MARQUEE_MODE: 'safe',
    MARQUEE_PORTS: [],
  };
  t.same(readEnv(Schema, {}), expected);
  t.same(readEnv(Schema, { PORT: '', MARQUEE_ON: '', MARQUEE_BUCKETS: '' }), expected, 'empty is unset');
  const a = readEnv(Schema, {});
  a.MARQUEE_PORTS.push(1);
  t.same(readEnv(Schema, {}).MARQUEE_PORTS, [], 'a default is a fresh copy each time');
});

t.test('coercion from text', async (t) => {
  const v = readEnv(Schema, {
    PORT: '0',
    MARQUEE_MAX_INFLIGHT: '10000',
    MARQUEE_RATIO: '0.25',
    MARQUEE_ON: 'true',
    LOG_LEVEL: 'debug',
    MARQUEE_MODE: 'fast',
    MARQUEE_BUCKETS: 'art, badges,,',
    MARQUEE_PORTS: '80,8443',
    MARQUEE_ENDPOINT: 'http://127.0.0.1:4569',
    MARQUEE_KEY: 'k'.repeat(16),
    MARQUEE_NAME: 'abc',
    MARQUEE_UPPER: 'abc',
  });
  t.same(v, {
    PORT: 0,
    MARQUEE_MAX_INFLIGHT: 10000,
    MARQUEE_RATIO: 0.25,
    MARQUEE_ON: true,
    LOG_LEVEL: 'debug',
    MARQUEE_MODE: 'fast',
    MARQUEE_BUCKETS: ['art', 'badges'],
    MARQUEE_PORTS: [80, 8443],
    MARQUEE_ENDPOINT: 'http://127.0.0.1:4569',
    MARQUEE_KEY: 'k'.repeat(16),
    MARQUEE_NAME: 'abc',
    MARQUEE_UPPER: 'ABC',
  });
  for (const [text, value] of [
    ['true', true],
    ['1', true],
    ['false', false],
    ['0', false],
  ] as const) {
    t.equal(readEnv(Schema, { MARQUEE_ON: text }).MARQUEE_ON, value, `boolean ${text}`);
  }
});

t.test('numbers are strict: decimal digits only', async (t) => {
  for (const bad of [' 5', '5 ', '+5', '-3', '0x10', '1e3', '5.0', '05', 'Infinity', 'NaN', '５']) {
    t.equal(
      problemFor('MARQUEE_MAX_INFLIGHT', bad),
      `MARQUEE_MAX_INFLIGHT must be an integer ≥ 1, got ${JSON.stringify(bad)}`,
      JSON.stringify(bad),
    );
  }
  for (const bad of ['.5', '5e-1', '1.5', ' 0.5', '-0']) {
    t.equal(
      problemFor('MARQUEE_RATIO', bad),
      `MARQUEE_RATIO must be a decimal from 0 to 1 (like 0.25), got ${JSON.stringify(bad)}`,
      JSON.stringify(bad),
    );
  }
});

t.test('every error form: one line naming the variable, what it must be, what it was', async (t) => {
  const cases: Array<[string, string, string]> = [
    ['MARQUEE_MAX_INFLIGHT', '0', 'MARQUEE_MAX_INFLIGHT must be an integer ≥ 1, got "0"'],
    ['PORT', '65536', 'PORT must be an integer from 0 to 65535, got "65536"'],
    ['PORT', 'eighty', 'PORT must be an integer from 0 to 65535, got "eighty"'],
    ['MARQUEE_ON', 'yes', 'MARQUEE_ON must be true, false, 1 or 0, got "yes"'],
    ['MARQUEE_ON', 'TRUE', 'MARQUEE_ON must be true, false, 1 or 0, got "TRUE"'],
    ['LOG_LEVEL', 'verbose', 'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "verbose"'],
    ['LOG_LEVEL', 'INFO', 'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "INFO"'],
    ['MARQUEE_MODE', 'quick', 'MARQUEE_MODE must be one of fast, safe, got "quick"'],
    [
      'MARQUEE_BUCKETS',
      'Bad_Bucket',
      'MARQUEE_BUCKETS must be comma-separated entries, each an S3 bucket name, got "Bad_Bucket"',
    ],
    [
      'MARQUEE_BUCKETS',
      'ok-bucket, Bad_Bucket',
      'MARQUEE_BUCKETS must be comma-separated entries, each an S3 bucket name, got "Bad_Bucket" in "ok-bucket, Bad_Bucket"',
    ],
    [
      'MARQUEE_PORTS',
      '80,0x50',
      'MARQUEE_PORTS must be comma-separated entries, each an integer from 1 to 65535, got "0x50" in "80,0x50"',
    ],
    ['MARQUEE_ENDPOINT', 'ftp://x', 'MARQUEE_ENDPOINT must be an http(s) URL, got "ftp://x"'],
    ['MARQUEE_ENDPOINT', 'localhost:4569', 'MARQUEE_ENDPOINT must be an http(s) URL, got "localhost:4569"'],
    ['MARQUEE_NAME', 'ABC', 'MARQUEE_NAME must be lower-case letters, got "ABC"'],
    ['MARQUEE_UPPER', '123', 'MARQUEE_UPPER must be a word, got "123"'],
    ['MARQUEE_KEY', 'hunter2', 'MARQUEE_KEY must be at least 16 characters, got 7 characters (not shown)'],
    ['MARQUEE_MAX_INFLIGHT', 'x'.repeat(100), `MARQUEE_MAX_INFLIGHT must be an integer ≥ 1, got "${'x'.repeat(40)}…"`],
  ];
  for (const [name, value, line] of cases) t.equal(problemFor(name, value), line, `${name}=${value.slice(0, 20)}`);

  const Required = Type.Object({
    MARQUEE_TABLE: Type.String({ description: 'no default' }),
    MARQUEE_N: Type.Integer({ minimum: 1 }),
  });
  t.same(
    parseEnv(Required, {}).problems,
    ['MARQUEE_TABLE must be set to text', 'MARQUEE_N must be set to an integer ≥ 1'],
    'a variable without default or Optional is required',
  );
});

t.test('all bad variables at once, one ConfigError', async (t) => {
  const env = { PORT: '-1', MARQUEE_ON: 'yes', MARQUEE_MAX_INFLIGHT: '4', LOG_LEVEL: 'loud' };
  const err = t.throws(() => readEnv(Schema, env)) as ConfigError;
  t.ok(err instanceof ConfigError);
  t.equal(err.name, 'ConfigError');
  t.same(err.problems, [
    'PORT must be an integer from 0 to 65535, got "-1"',
    'MARQUEE_ON must be true, false, 1 or 0, got "yes"',
    'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "loud"',
  ]);
  t.equal(err.message, err.problems.join('\n'), 'the message is the lines, fit to print as-is');

  const { values, problems, refused } = parseEnv(Schema, env);
  t.equal(problems.length, 3);
  t.same([...refused], ['PORT', 'MARQUEE_ON', 'LOG_LEVEL'], 'refused names the bad variables');
  t.match(
    values,
    { PORT: 8080, MARQUEE_ON: false, MARQUEE_MAX_INFLIGHT: 4 },
    'bad variables are left at their defaults; good ones read',
  );
  t.same(new ConfigError('one line').problems, ['one line']);
});

t.test('unknown MARQUEE_* variables: listed (for a warning), never refused', async (t) => {
  const env = { MARQUEE_MAX_INFLIGT: '4', MARQUEE_ON: '1', MARQUEE_OTHER_SERVICE: 'x', PATH: '/bin', LOG_LEVELS: 'x' };
  t.same(unknownVariables(Schema, env), ['MARQUEE_MAX_INFLIGT', 'MARQUEE_OTHER_SERVICE']);
  const Other = Type.Object({ MARQUEE_OTHER_SERVICE: Type.Optional(Type.String()) });
  t.same(unknownVariables([Schema, Other], env), ['MARQUEE_MAX_INFLIGT'], 'several schemas: known to any is known');
  t.same(unknownVariables(Schema, env, 'LOG_'), ['LOG_LEVELS'], 'another prefix');
  t.doesNotThrow(() => readEnv(Schema, env), 'readEnv ignores them');
});

t.test('describeEnv: the rows a README table needs', async (t) => {
  const rows = describeEnv(Schema);
  t.same(rows[0], {
    name: 'PORT',
    expected: 'an integer from 0 to 65535',
    default: 8080,
    optional: false,
    description: 'where it listens',
  });
  t.match(
    rows.find((r) => r.name === 'MARQUEE_ENDPOINT'),
    { optional: true, default: undefined, expected: 'an http(s) URL' },
  );
  t.equal(rows.length, Object.keys(Schema.properties).length);
});

t.test('a schema the module cannot read from text is a programming error, not a ConfigError', async (t) => {
  const Bad = Type.Object({ MARQUEE_OBJ: Type.Optional(Type.Object({ a: Type.String() })) });
  t.throws(() => readEnv(Bad, { MARQUEE_OBJ: '{}' }), { name: 'TypeError', message: /MARQUEE_OBJ/ });
});

t.test('childEnv: this environment plus extras, undefined dropped', async (t) => {
  const env = childEnv({ MARQUEE_CHILD_ONLY: 'x', MARQUEE_DROPPED: undefined });
  t.equal(env.MARQUEE_CHILD_ONLY, 'x');
  t.notOk('MARQUEE_DROPPED' in env);
  t.equal(env.PATH, readEnv(Type.Object({ PATH: Type.Optional(Type.String()) })).PATH, 'inherits the rest');
});

t.test('configOrExit: a ConfigError prints its lines and exits 1; other errors pass through', async (t) => {
  t.equal(
    configOrExit(() => 7),
    7,
  );
  t.throws(
    () =>
      configOrExit(() => {
        throw new RangeError('bug');
      }),
    RangeError,
  );
  const writes: string[] = [];
  const codes: Array<number | string | null | undefined> = [];
  // Saved to be put back after the test; called only as methods of their objects again.
  const write = process.stderr.write.bind(process.stderr);
  const exit = process.exit.bind(process);
  process.stderr.write = (chunk: string) => writes.push(chunk) > 0;
  process.exit = (code?: number) => {
    codes.push(code);
    throw new Error('exited');
  };
  try {
    t.throws(() => configOrExit(() => readEnv(Schema, { PORT: 'x', MARQUEE_ON: 'y' })), /exited/);
  } finally {
    process.stderr.write = write;
    process.exit = exit;
  }
  t.same(codes, [1]);
  t.same(
    writes,
    ['PORT must be an integer from 0 to 65535, got "x"\nMARQUEE_ON must be true, false, 1 or 0, got "y"\n'],
    'the lines, no stack',
  );
});
