import { Value } from '@sinclair/typebox/value';
import type { TSchema, Static } from '@sinclair/typebox';
import { MarqueeError, type ErrorCode } from './errors.js';
import {
  GeneratorRequestSchema,
  ImageSpecSchema,
  type Format,
  type GeneratorRequest,
  type ImageSpec,
} from './schema.js';

/**
 * A validator that returns the typed value or throws a coded error naming the first bad field.
 * Interpreted (`Value.Check`), not compiled: these documents are small, so a check costs next to
 * nothing either way, while compiling one lengthened a cold Generator's first invocation (the
 * README's cold-start figures), besides loading the compiler.
 */
function validator<T extends TSchema>(schema: T, code: ErrorCode, what: string) {
  return (value: unknown): Static<T> => {
    if (Value.Check(schema, value)) return value;
    const first = Value.Errors(schema, value).First();
    const where = first?.path ? first.path : '/';
    throw new MarqueeError(code, `${what}: ${where} ${first?.message ?? 'is invalid'}`);
  };
}

export const parseImageSpec: (value: unknown) => ImageSpec = validator(ImageSpecSchema, 'INVALID_SPEC', 'invalid spec');
export const parseGeneratorRequest: (value: unknown) => GeneratorRequest = validator(
  GeneratorRequestSchema,
  'INVALID_SPEC',
  'invalid generator request',
);

const CONTENT_TYPES: Record<Format, string> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  avif: 'image/avif',
};

export function contentTypeOf(format: Format): string {
  return CONTENT_TYPES[format];
}
