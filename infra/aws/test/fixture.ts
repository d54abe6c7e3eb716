import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, type CfnElement } from 'aws-cdk-lib';
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

/** One IAM statement and where it lives: the roles its policy is attached to. */
export interface PlacedStatement {
  readonly policy: string;
  readonly roles: readonly unknown[];
  readonly statement: Record<string, unknown>;
}

/** Every statement of every identity policy in the template: standalone, managed, and inline in roles. */
export function allStatements(template: Template): PlacedStatement[] {
  const out: PlacedStatement[] = [];
  const add = (policy: string, roles: readonly unknown[], doc: unknown): void => {
    const statements = (doc as { Statement?: unknown } | undefined)?.Statement;
    for (const s of Array.isArray(statements) ? statements : [statements]) {
      if (s !== undefined) out.push({ policy, roles, statement: s as Record<string, unknown> });
    }
  };
  for (const type of ['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy']) {
    for (const [id, r] of Object.entries(template.findResources(type))) {
      const p = (r as { Properties: { Roles?: unknown[]; PolicyDocument: unknown } }).Properties;
      add(id, p.Roles ?? [], p.PolicyDocument);
    }
  }
  for (const [id, r] of Object.entries(template.findResources('AWS::IAM::Role'))) {
    const policies = (r as { Properties: { Policies?: { PolicyDocument: unknown }[] } }).Properties.Policies ?? [];
    for (const p of policies) add(id, [{ Ref: id }], p.PolicyDocument);
  }
  return out;
}

/** A statement's actions as a list. */
export function actionsOf(statement: Record<string, unknown>): string[] {
  const a = statement['Action'];
  return (Array.isArray(a) ? a : [a]).filter((x): x is string => typeof x === 'string');
}

/** `{ Ref: <logical id> }` of a construct's CloudFormation resource. */
export function refOf(stack: MarqueeStack, construct: { node: { defaultChild?: unknown } }): { Ref: string } {
  return { Ref: stack.getLogicalId(construct.node.defaultChild as CfnElement) };
}

/** A resource of the synthesised template, as the tests read it. */
export interface TemplateResource {
  Type: string;
  Properties: Record<string, unknown>;
}

/** The template's resource with logical id `id`; a missing one fails the test that asked. */
export function resourceOf(template: Template, id: string): TemplateResource {
  const resources = template.toJSON().Resources as Record<string, TemplateResource | undefined>;
  const resource = resources[id];
  if (resource === undefined) throw new Error(`no resource ${id} in the template`);
  return { ...resource, Properties: resource.Properties ?? {} };
}
