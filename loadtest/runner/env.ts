/**
 * The variables the load-test processes read, declared for `@marquee/shared`'s env module (the
 * only reader of the environment). The CLIs take flags; the environment carries what the runner
 * hands its stack child, and one development override.
 */
import { Type, readEnv, type Env } from '@marquee/shared';
import type { StackChildOptions } from './stack-protocol.js';

/** A JSON object, or undefined: anything else is not options. */
function jsonObject(text: string): Record<string, unknown> | undefined {
  const value: unknown = JSON.parse(text);
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** Read by `stack-child.ts`; `MARQUEE_STACK_OPTIONS` is written by `stack.ts`, never by hand. */
export const StackChildEnv = Type.Object({
  MARQUEE_STACK_OPTIONS: Type.Unknown({
    parse: jsonObject,
    default: {},
    expected: 'a JSON object of stack options (set by the runner)',
    description: 'the options startEmbeddedStack was given',
  }),
  MARQUEE_STACK_MODULE: Type.String({
    // A module specifier in a variable: the infra package is reached only through its entry point, at run time.
    default: '@marquee/local',
    description: 'development override: another module exporting startStack',
  }),
});

export interface StackChildSettings {
  options: StackChildOptions;
  module: string;
}

export function stackChildSettings(env?: Env): StackChildSettings {
  const v = readEnv(StackChildEnv, env);
  return { options: v.MARQUEE_STACK_OPTIONS as StackChildOptions, module: v.MARQUEE_STACK_MODULE };
}
