#!/usr/bin/env node
// `npm start`: builds only what the embedded stack runs (`tsc -b infra/local`: shared, generator,
// preprocessor and local; then the studio's browser code), saying what it is doing, and starts the
// stack (infra/local/dist/stack/main.js) in this process with the same arguments. Plain JavaScript:
// it runs before anything is compiled.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const require = createRequire(import.meta.url);
const say = (line) => process.stdout.write(`marquee: ${line}\n`);
const seconds = (since) => `${((performance.now() - since) / 1000).toFixed(1)} s`;

/** Runs a Node script from the repository's root; each line of its stdout goes to `onLine`. */
function run(args, onLine) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    createInterface({ input: child.stdout }).on('line', onLine);
    child.on('error', reject);
    child.on('close', (code) => resolve(code ?? 1));
  });
}

/** tsc's --verbose chatter (what it checks and skips); diagnostics are the other lines. */
const CHATTER = /(Projects in this build|Project '|Updating output timestamps|Building project)|^\s+\* |^\s*$/;

const started = performance.now();
say('building the stack (tsc -b infra/local)');
let compiled = 0;
const tsc = await run([require.resolve('typescript/bin/tsc'), '-b', 'infra/local', '--verbose'], (line) => {
  const building = /Building project '(.+)'/.exec(line);
  if (building) {
    compiled++;
    say(`  compiling ${path.relative(root, path.dirname(building[1])) || '.'}`);
  } else if (!CHATTER.test(line)) process.stderr.write(`${line}\n`);
});
if (tsc !== 0) {
  say('the build failed (above): fix it and run npm start again');
  process.exit(1);
}
const ui = await run([path.join(root, 'preprocessor/scripts/build-ui.mjs')], () => undefined);
if (ui !== 0) {
  say("the studio's browser code did not build (above)");
  process.exit(1);
}
say(compiled > 0 ? `built in ${seconds(started)}` : `up to date (${seconds(started)})`);
await import('../dist/stack/main.js');
