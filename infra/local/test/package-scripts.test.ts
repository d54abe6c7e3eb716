// Every root script that runs tests through tap builds tap's Test class first (`tap build`): a fresh
// clone's class is built with the default plugins, @tapjs/typescript among them, which .taprc turns
// off (tests run through tsx); unbuilt, every file fails with "exports is not defined in ES module
// scope". `npm run test:unit` once skipped it (issue 19, point 10).
import t from 'tap';
import { readFileSync } from 'node:fs';

const ROOT = new URL('../../../package.json', import.meta.url);
const scripts = (JSON.parse(readFileSync(ROOT, 'utf8')) as { scripts: Record<string, string> }).scripts;

/** The commands of a script, in order (`a && b && c`). */
const steps = (script: string): string[] => script.split('&&').map((s) => s.trim());
const runsTests = (step: string): boolean => /^tap(\s|$)/.test(step) && !/^tap\s+build\b/.test(step);

t.test('a script that runs tap builds it before', async (t) => {
  const testing = Object.entries(scripts).filter(([, script]) => steps(script).some(runsTests));
  t.ok(
    testing.some(([name]) => name === 'test:unit'),
    'test:unit runs tap',
  );
  for (const [name, script] of testing) {
    const list = steps(script);
    const build = list.findIndex((s) => /^tap\s+build$/.test(s));
    t.ok(build >= 0 && build < list.findIndex(runsTests), `${name}: tap build, then tap`);
  }
});
