import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { childEnv, type Env } from '@marquee/shared';

/** `npm run rules` from source (through tsx), as a user runs it: exit code and both streams. */
const CLI = fileURLToPath(new URL('../../src/cli/rules.ts', import.meta.url));

export async function runRulesCli(env: Env, args: readonly string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: childEnv(env),
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const [code] = (await once(child, 'close')) as [number];
  return { code, stdout, stderr };
}
