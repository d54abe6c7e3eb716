import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { FITS, GRAVITIES, MAX_KEY_LENGTH, MAX_OUTPUT_DIMENSION, SIZE_POLICIES } from '@marquee/shared';

/**
 * The two documents the rules engine reads: the rules (YAML, edited by people)
 * and the catalog (JSON, written by the catalog export). The rules' schema is
 * here; the catalog's is in `@marquee/shared` (its writers use it too) and is
 * re-exported below. Checks that span fields (sizes inside max, sizes on the
 * aspect …) live in `semantics.ts`.
 *
 * `errorMessage` is our own keyword: the loader prefers it to TypeBox's
 * generic wording, so a bad field reads "expected WxH like 342x513".
 */

/** Encoder effort on our 0 (fastest) .. 9 (smallest) scale, as in the spec. */
const Effort = Type.Integer({ minimum: 0, maximum: 9, errorMessage: 'expected an integer effort 0..9' });
const Quality = Type.Integer({ minimum: 1, maximum: 100, errorMessage: 'expected an integer quality 1..100' });
const Pixels = Type.Integer({
  minimum: 1,
  maximum: MAX_OUTPUT_DIMENSION,
  errorMessage: `expected an integer number of pixels 1..${MAX_OUTPUT_DIMENSION}`,
});
const Seconds = Type.Integer({ minimum: 0, errorMessage: 'expected a whole number of seconds >= 0' });

/** A literal union with one readable message instead of one error per member. */
function oneOf<const T extends readonly string[]>(values: T) {
  const union = Type.Union(
    values.map((v) => Type.Literal(v)),
    { errorMessage: `expected one of ${values.join(', ')}` },
  );
  // Unsafe keeps the union's schema (and Kind) but gives it the literal type.
  return Type.Unsafe<T[number]>(union);
}

/** A map whose keys are checked by the loader (locale tags, size-class names). */
function map<T extends TSchema>(value: T) {
  return Type.Record(Type.String(), value, { errorMessage: 'expected a mapping' });
}

export { SIZE_POLICIES, type SizePolicy } from '@marquee/shared';
export {
  ArtworkEntrySchema,
  CatalogSchema,
  FocalPointSchema,
  TitleSchema,
  type ArtworkEntry,
  type Catalog,
  type FocalPoint,
  type Title,
} from '@marquee/shared';

export const CROP_POLICIES = ['focal', 'attention', 'centre'] as const;
export const RULE_FORMATS = ['avif', 'webp', 'jpeg', 'png'] as const;

/** `WxH` in logical (CSS) pixels, e.g. `342x513`. */
export const SIZE_PATTERN = '^[1-9][0-9]{0,4}x[1-9][0-9]{0,4}$';
/** `W:H`, e.g. `2:3`, `16:9`. */
export const ASPECT_PATTERN = '^[1-9][0-9]{0,3}:[1-9][0-9]{0,3}$';

export const SizeSchema = Type.String({ pattern: SIZE_PATTERN, errorMessage: 'expected WxH like 342x513' });
export const AspectSchema = Type.String({ pattern: ASPECT_PATTERN, errorMessage: 'expected W:H like 2:3' });
export const SizePolicySchema = oneOf(SIZE_POLICIES);
export const CropPolicySchema = oneOf(CROP_POLICIES);
export const RuleFormatSchema = oneOf(RULE_FORMATS);
const FitSchema = oneOf(FITS);
const GravitySchema = oneOf(GRAVITIES);

const Tuning = Type.Object(
  { quality: Type.Optional(Quality), effort: Type.Optional(Effort) },
  { additionalProperties: false },
);

/**
 * How one format is encoded. `sizeClasses` overrides quality/effort for
 * outputs of a given size class (by output pixel width).
 */
export const EncodingSchema = Type.Object(
  {
    quality: Type.Optional(Quality),
    effort: Type.Optional(Effort),
    sizeClasses: Type.Optional(map(Tuning)),
  },
  { additionalProperties: false },
);

/** Encoding per format; a type's entry overrides the global one field by field. */
export const EncodingMapSchema = Type.Object(
  {
    avif: Type.Optional(EncodingSchema),
    webp: Type.Optional(EncodingSchema),
    jpeg: Type.Optional(EncodingSchema),
    png: Type.Optional(EncodingSchema),
  },
  { additionalProperties: false },
);

export const SizeClassSchema = Type.Object(
  {
    name: Type.String({ pattern: '^[a-z][a-z0-9-]{0,31}$', errorMessage: 'expected a lower-case name like small' }),
    /** Largest output pixel width in this class; omitted on the last (catch-all) class. */
    maxWidth: Type.Optional(Pixels),
  },
  { additionalProperties: false },
);

export const OverlayRuleSchema = Type.Object(
  {
    /** The title flag that turns the overlay on (`top10`, `new`). */
    flag: Type.String({ minLength: 1, maxLength: 64, errorMessage: 'expected a flag name' }),
    /** Key of the overlay image in the sources bucket. */
    source: Type.String({ minLength: 1, maxLength: MAX_KEY_LENGTH, errorMessage: 'expected a source key' }),
    gravity: GravitySchema,
    /** Overlay width as a fraction of the output width. */
    scale: Type.Number({ exclusiveMinimum: 0, maximum: 1, errorMessage: 'expected a fraction in (0, 1]' }),
    /** Only on outputs at least this many pixels wide: a badge on a thumbnail is noise. */
    minWidth: Type.Optional(Type.Integer({ minimum: 0, errorMessage: 'expected an integer width >= 0' })),
  },
  { additionalProperties: false },
);

/**
 * Cache-Control policy. `immutableMaxAge` is used (with `immutable`) when the
 * request's `v` is the artwork's current version.
 */
export const CachePolicySchema = Type.Object(
  {
    maxAge: Seconds,
    sMaxAge: Type.Optional(Seconds),
    staleWhileRevalidate: Type.Optional(Seconds),
    immutableMaxAge: Seconds,
  },
  { additionalProperties: false },
);

/**
 * The widths an `any` type renders: `minWidth`, then each `ratio` times the
 * one before (rounded to whole pixels), up to the largest width that fits the
 * max. Bounds the renders an unsigned URL can cause (see `model.ts`).
 */
export const LadderSchema = Type.Object(
  {
    minWidth: Pixels,
    // Below 1.05 the ladder is no longer small; above 2 a request may get over four times its pixels.
    ratio: Type.Number({ minimum: 1.05, maximum: 2, errorMessage: 'expected a ratio 1.05..2' }),
  },
  { additionalProperties: false },
);

/**
 * Which outputs of a type are rendered into the derivative store before anyone asks (a new
 * artwork version in the catalog, a rules publish). Each list defaults to the type's: its listed
 * sizes, at 1x and 2x (those of the rules' DPRs), in its formats. `false`: none.
 */
export const PrewarmSchema = Type.Union(
  [
    Type.Literal(false),
    Type.Object(
      {
        sizes: Type.Optional(Type.Array(SizeSchema, { minItems: 1 })),
        dprs: Type.Optional(Type.Array(Type.Integer({ minimum: 1, maximum: 4 }), { minItems: 1 })),
        formats: Type.Optional(Type.Array(RuleFormatSchema, { minItems: 1 })),
      },
      { additionalProperties: false },
    ),
  ],
  { errorMessage: 'expected false or { sizes: [WxH, ...], dprs: [1, 2], formats: [webp, ...] } (each optional)' },
);

export const TypeRulesSchema = Type.Object(
  {
    /** Human note, shown on the studio page. */
    description: Type.Optional(Type.String()),
    aspect: AspectSchema,
    /** Allowed logical sizes, `WxH`. */
    sizes: Type.Array(SizeSchema, { minItems: 1, errorMessage: 'expected a non-empty list of WxH sizes' }),
    sizePolicy: Type.Optional(SizePolicySchema),
    /** Required with `sizePolicy: any`, ignored otherwise. */
    ladder: Type.Optional(LadderSchema),
    /** Output pixel bounds, applied after DPR. */
    maxWidth: Pixels,
    maxHeight: Pixels,
    /** Allowed formats, best first: `auto` picks the first the client accepts. */
    formats: Type.Array(RuleFormatSchema, { minItems: 1, errorMessage: 'expected a non-empty list of formats' }),
    encoding: Type.Optional(EncodingMapSchema),
    fit: Type.Optional(FitSchema),
    background: Type.Optional(
      Type.String({
        pattern: '^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$',
        errorMessage: 'expected a colour #rgb, #rrggbb or #rrggbbaa',
      }),
    ),
    crop: Type.Optional(CropPolicySchema),
    /** Whether the source may be scaled up; absent means it may not. */
    enlarge: Type.Optional(Type.Boolean({ errorMessage: 'expected true or false' })),
    overlays: Type.Optional(Type.Array(OverlayRuleSchema)),
    /** Replaces the global `cache` for this type. */
    cache: Type.Optional(CachePolicySchema),
    /** Whether renders are kept in the derivative store (and read from it); absent means they are. */
    store: Type.Optional(Type.Boolean({ errorMessage: 'expected true or false' })),
    /** What is rendered into the store ahead of requests; absent: the defaults above. */
    prewarm: Type.Optional(PrewarmSchema),
  },
  { additionalProperties: false },
);

export const RulesSchema = Type.Object(
  {
    version: Type.Literal(1, { errorMessage: 'expected 1 (the only rules version)' }),
    defaultLocale: Type.String({ errorMessage: 'expected a locale like en' }),
    /** Explicit chains, e.g. `pt-BR: [pt, en]`; others strip subtags, then the default. */
    localeFallback: Type.Optional(map(Type.Array(Type.String()))),
    dpr: Type.Array(Type.Integer({ minimum: 1, maximum: 4, errorMessage: 'expected an integer DPR 1..4' }), {
      minItems: 1,
      errorMessage: 'expected a non-empty list of DPRs',
    }),
    sizeClasses: Type.Array(SizeClassSchema, {
      minItems: 1,
      errorMessage: 'expected a non-empty list of size classes',
    }),
    encoding: Type.Optional(EncodingMapSchema),
    cache: CachePolicySchema,
    types: map(TypeRulesSchema),
  },
  { additionalProperties: false },
);

export type CropPolicy = (typeof CROP_POLICIES)[number];
export type Encoding = Static<typeof EncodingSchema>;
export type EncodingMap = Static<typeof EncodingMapSchema>;
export type SizeClass = Static<typeof SizeClassSchema>;
export type Ladder = Static<typeof LadderSchema>;
export type OverlayRule = Static<typeof OverlayRuleSchema>;
export type CachePolicy = Static<typeof CachePolicySchema>;
export type PrewarmRules = Static<typeof PrewarmSchema>;
export type TypeRules = Static<typeof TypeRulesSchema>;
export type Rules = Static<typeof RulesSchema>;
