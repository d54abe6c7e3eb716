import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { MAX_KEY_LENGTH } from './schema.js';

/**
 * The catalog document (`catalog.json` in the sources bucket): titles → artwork
 * per type and locale → source key, version, focal point; plus each title's
 * flags. Written by the catalog export (locally: `infra/local/seed`), read by
 * the Preprocessor's rules engine, which validates it against these schemas
 * (`preprocessor/src/rules/load.ts`) and checks what spans fields (title ids,
 * locale tags) in `semantics.ts`.
 *
 * `errorMessage` is our own keyword: the rules loader prefers it to TypeBox's
 * generic wording, so a bad field reads "expected a fraction 0..1".
 */

/** A map whose keys are checked by the loader (title ids, type names, locale tags). */
function map<T extends TSchema>(value: T) {
  return Type.Record(Type.String(), value, { errorMessage: 'expected a mapping' });
}

/** Where the subject is, so crops keep it: fractions of the source from the left and the top. */
export const FocalPointSchema = Type.Object(
  {
    x: Type.Number({ minimum: 0, maximum: 1, errorMessage: 'expected a fraction 0..1' }),
    y: Type.Number({ minimum: 0, maximum: 1, errorMessage: 'expected a fraction 0..1' }),
  },
  { additionalProperties: false },
);

/** One artwork: one type of one title in one locale. */
export const ArtworkEntrySchema = Type.Object(
  {
    /** Object key in the sources bucket. */
    source: Type.String({ minLength: 1, maxLength: MAX_KEY_LENGTH, errorMessage: 'expected a source key' }),
    /** Bumped when the artwork is replaced: part of the cache key. */
    version: Type.String({ minLength: 1, maxLength: 128, errorMessage: 'expected a non-empty version string' }),
    /** Absent: the renderer picks (the type's crop policy). */
    focal: Type.Optional(FocalPointSchema),
    width: Type.Optional(Type.Integer({ minimum: 1, errorMessage: 'expected an integer width' })),
    height: Type.Optional(Type.Integer({ minimum: 1, errorMessage: 'expected an integer height' })),
  },
  { additionalProperties: false },
);

export const TitleSchema = Type.Object(
  {
    name: Type.String({ errorMessage: 'expected the title name' }),
    /** e.g. `top10`, `new`: the rules map flags to overlays. */
    flags: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { errorMessage: 'expected a list of flags' })),
    /** type (`boxshot`, `billboard`, `logo`) → locale (BCP 47) → artwork. */
    artwork: map(map(ArtworkEntrySchema)),
  },
  { additionalProperties: false },
);

export const CatalogSchema = Type.Object(
  {
    version: Type.Literal(1, { errorMessage: 'expected 1 (the only catalog version)' }),
    /** Keyed by title id. */
    titles: map(TitleSchema),
  },
  { additionalProperties: false },
);

export type FocalPoint = Static<typeof FocalPointSchema>;
export type ArtworkEntry = Static<typeof ArtworkEntrySchema>;
export type Title = Static<typeof TitleSchema>;
export type Catalog = Static<typeof CatalogSchema>;
