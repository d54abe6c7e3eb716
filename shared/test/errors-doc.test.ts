import { readFile } from 'node:fs/promises';
import t from 'tap';
import { ERROR_CODES, statusOf } from '../src/errors.js';

t.test("every error code is in the README's table, under its own status", async (t) => {
  const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
  const rows = readme.split('\n').filter((l) => /^\| \d{3} \| `/.test(l));
  for (const code of ERROR_CODES) {
    if (code === 'INVALID_SPEC') {
      t.match(readme, /`INVALID_SPEC` is the Generator's own refusal/, 'INVALID_SPEC is explained as Generator-only');
      continue;
    }
    const row = rows.find((r) => r.includes(`\`${code}\``));
    t.ok(row, `${code} has a row`);
    t.match(row ?? '', new RegExp(`^\\| ${statusOf(code)} \\|`), `${code} is listed under ${statusOf(code)}`);
  }
});
