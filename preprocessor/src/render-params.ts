import { Type, type TSchema } from '@sinclair/typebox';
import {
  FITS,
  FORMATS,
  MAX_OUTPUT_DIMENSION,
  MarqueeError,
  quoteInput,
  readFraction,
  readInteger,
  type RenderParams,
} from '@marquee/shared';

/**
 * The image parameters of a `/v1/render` URL: one parser for the route that serves it and the
 * studio endpoint that signs it, so nothing is signed that the route would refuse and both read
 * a number the same way (`shared/numbers.ts`: decimal digits only). Their type, as read, is the
 * wire contract's `RenderParams` (`shared/studio.ts`).
 */
export type { RenderParams };

/**
 * What the schemas declare for these parameters: text (or, in JSON, a number), never coerced.
 * ajv's coercion would read `0x10` as 16 and ` 100` as 100 before `parseRenderParams` saw them.
 * One entry per parameter of `RenderParams`, no more (`satisfies` checks both).
 */
const Raw = Type.Union([Type.String({ maxLength: 32 }), Type.Number()]);
export const RENDER_PARAMS_SCHEMA = {
  w: Type.Unsafe<string | number>({ ...Raw, description: `integer 1..${MAX_OUTPUT_DIMENSION}` }),
  h: Type.Unsafe<string | number>({ ...Raw, description: `integer 1..${MAX_OUTPUT_DIMENSION}` }),
  fit: Type.Optional(Type.String({ maxLength: 16 })),
  fmt: Type.Optional(Type.String({ maxLength: 16 })),
  q: Type.Optional(Type.Unsafe<string | number>({ ...Raw, description: 'integer 1..100' })),
  fx: Type.Optional(Type.Unsafe<string | number>({ ...Raw, description: 'fraction 0..1' })),
  fy: Type.Optional(Type.Unsafe<string | number>({ ...Raw, description: 'fraction 0..1' })),
} satisfies { [K in keyof RenderParams]-?: TSchema };

function invalid(name: string, expected: string, value: unknown): MarqueeError {
  return new MarqueeError('INVALID_PARAMETER', `${name}: expected ${expected}, got ${quoteInput(value)}`);
}

/** Text as sent; a JSON number is read through its shortest decimal spelling, as JSON wrote it. */
function textOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

function integer(name: string, value: unknown, min: number, max: number): number {
  const text = textOf(value);
  const n = text === undefined ? undefined : readInteger(text, min, max);
  if (n === undefined) throw invalid(name, `an integer ${min}..${max} in decimal digits`, value);
  return n;
}

function fraction(name: string, value: unknown): number {
  const text = textOf(value);
  const n = text === undefined ? undefined : readFraction(text);
  if (n === undefined) throw invalid(name, 'a decimal fraction 0..1 like 0.25', value);
  return n;
}

function oneOf<T extends string>(name: string, value: unknown, values: readonly T[]): T {
  if (typeof value === 'string' && (values as readonly string[]).includes(value)) return value as T;
  throw invalid(name, `one of ${values.join(', ')}`, value);
}

/**
 * Reads the image parameters from a query or a JSON object; a 400 `INVALID_PARAMETER` naming
 * the parameter (prefixed by `where`, e.g. `renders[2].`) and its range for anything else.
 */
export function parseRenderParams(raw: Record<string, unknown>, where = ''): RenderParams {
  const name = (p: string) => `${where}${p}`;
  if (raw.w === undefined || raw.h === undefined) {
    throw new MarqueeError('INVALID_PARAMETER', `${name('w')} and ${name('h')}: both are required`);
  }
  const params: RenderParams = {
    w: integer(name('w'), raw.w, 1, MAX_OUTPUT_DIMENSION),
    h: integer(name('h'), raw.h, 1, MAX_OUTPUT_DIMENSION),
  };
  if (raw.fit !== undefined) params.fit = oneOf(name('fit'), raw.fit, FITS);
  if (raw.fmt !== undefined) params.fmt = oneOf(name('fmt'), raw.fmt, FORMATS);
  if (raw.q !== undefined) params.q = integer(name('q'), raw.q, 1, 100);
  if ((raw.fx === undefined) !== (raw.fy === undefined)) {
    throw new MarqueeError('INVALID_PARAMETER', `${name('fx')} and ${name('fy')}: give both or neither`);
  }
  if (raw.fx !== undefined && raw.fy !== undefined) {
    params.fx = fraction(name('fx'), raw.fx);
    params.fy = fraction(name('fy'), raw.fy);
  }
  return params;
}
