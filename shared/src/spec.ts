import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { TSchema, Static } from '@sinclair/typebox';
import { MarqueeError, statusOf, type ErrorCode } from './errors.js';
import {
  GeneratorRequestSchema,
  GeneratorResultSchema,
  ImageSpecSchema,
  type Format,
  type GeneratorFailure,
  type GeneratorRequest,
  type GeneratorResult,
  type ImageSpec,
} from './schema.js';

/** A validator that returns the typed value or throws a coded error naming the first bad field. */
function validator<T extends TSchema>(schema: T, code: ErrorCode, what: string) {
  // Compiled on first use: a cold Lambda pays only for the validators it calls.
  let check: ReturnType<typeof TypeCompiler.Compile<T>> | undefined;
  return (value: unknown): Static<T> => {
    check ??= TypeCompiler.Compile(schema);
    if (check.Check(value)) return value;
    const first = check.Errors(value).First();
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
export const parseGeneratorResult: (value: unknown) => GeneratorResult = validator(
  GeneratorResultSchema,
  'GENERATOR_FAILED',
  'invalid generator result',
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

/** The file extension a format is served under (`jpg` for JPEG, as the URL API spells it). */
export function extensionOf(format: Format): string {
  return format === 'jpeg' ? 'jpg' : format;
}

export function failure(code: ErrorCode, message: string): GeneratorFailure {
  return { ok: false, error: { code, status: statusOf(code), message } };
}
