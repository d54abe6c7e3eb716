import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { MarqueeSettingsInput } from '../lib/config.js';
import { MarqueeStack } from '../lib/marquee-stack.js';

/** The part of a tap test the fixtures need. */
export interface Scope {
  teardown(fn: () => void): void;
}

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * An empty but valid zip (only the end-of-central-directory record): synth hashes and copies
 * the bundle, it never opens it, so tests need not run the Generator's package step.
 */
const EMPTY_ZIP = Buffer.from([0x50, 0x4b, 0x05, 0x06, ...new Array<number>(18).fill(0)]);

/** A temporary Generator bundle, removed with the test. */
export function fakeGeneratorZip(t: Scope): string {
  const dir = mkdtempSync(join(tmpdir(), 'marquee-cdk-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const zip = join(dir, 'generator.zip');
  writeFileSync(zip, EMPTY_ZIP);
  return zip;
}

export interface Synth {
  readonly stack: MarqueeStack;
  readonly template: Template;
}

/** Synthesises the stack once; a test file shares the result across its assertions. */
export function synth(t: Scope, settings: Partial<MarqueeSettingsInput> = {}): Synth {
  const outdir = mkdtempSync(join(tmpdir(), 'marquee-cdk-out-'));
  t.teardown(() => rmSync(outdir, { recursive: true, force: true }));
  const app = new App({ outdir });
  const stack = new MarqueeStack(app, 'MarqueeTest', {
    settings: { generatorZip: fakeGeneratorZip(t), ...settings },
    repoRoot: REPO_ROOT,
    env: { account: '111111111111', region: 'eu-west-1' },
  });
  return { stack, template: Template.fromStack(stack) };
}
