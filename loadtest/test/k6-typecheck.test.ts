// How CI type-checks the k6 scripts: k6 is not installed here, so tsc checks them against @types/k6.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const project = fileURLToPath(new URL('../k6/tsconfig.json', import.meta.url));

t.test('tsc -p loadtest/k6/tsconfig.json exits 0', async (t) => {
  const r = spawnSync(process.execPath, [tsc, '-p', project], { encoding: 'utf8', timeout: 120_000 });
  t.equal(r.status, 0, `${r.stdout}${r.stderr}`);
});
