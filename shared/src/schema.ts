import { Type, type Static } from '@sinclair/typebox';

/**
 * Bounds of the wire contract. They are the outer walls: the rules of an
 * artwork type are usually much tighter.
 */
/** Largest output side: an 8K frame; beyond it nobody displays artwork. */
export const MAX_OUTPUT_DIMENSION = 8192;
/** Most overlays on one image: badges, not a collage. */
export const MAX_OVERLAYS = 4;
/** Longest S3 key (S3's own limit is 1024 bytes). */
export const MAX_KEY_LENGTH = 1024;
/** Longest source URL: longer ones are not real origins. */
export const MAX_URL_LENGTH = 2048;

export const FORMATS = ['jpeg', 'png', 'webp', 'avif'] as const;
export const FITS = ['cover', 'contain', 'inside', 'fill'] as const;
export const GRAVITIES = [
  'north',
  'northeast',
  'east',
  'southeast',
  'south',
  'southwest',
  'west',
  'northwest',
  'centre',
] as const;

export const FormatSchema = Type.Union(FORMATS.map((f) => Type.Literal(f)));
export const FitSchema = Type.Union(FITS.map((f) => Type.Literal(f)));
export const GravitySchema = Type.Union(GRAVITIES.map((g) => Type.Literal(g)));

const Dimension = Type.Integer({ minimum: 1, maximum: MAX_OUTPUT_DIMENSION });
const Unit = Type.Number({ minimum: 0, maximum: 1 });

export const S3RefSchema = Type.Object(
  {
    bucket: Type.String({ minLength: 3, maxLength: 63, pattern: '^[a-z0-9][a-z0-9.-]*[a-z0-9]$' }),
    key: Type.String({ minLength: 1, maxLength: MAX_KEY_LENGTH }),
    versionId: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
  },
  { additionalProperties: false },
);

export const SourceSchema = Type.Union([
  Type.Object({ s3: S3RefSchema }, { additionalProperties: false }),
  Type.Object(
    { url: Type.String({ minLength: 8, maxLength: MAX_URL_LENGTH, pattern: '^https?://' }) },
    { additionalProperties: false },
  ),
]);

export const FocalSchema = Type.Object({ x: Unit, y: Unit }, { additionalProperties: false });

export const OverlaySchema = Type.Object(
  {
    source: SourceSchema,
    gravity: GravitySchema,
    /** Overlay width as a fraction of the output width. */
    scale: Type.Number({ exclusiveMinimum: 0, maximum: 1 }),
  },
  { additionalProperties: false },
);

export const ImageSpecSchema = Type.Object(
  {
    width: Dimension,
    height: Dimension,
    fit: FitSchema,
    focal: Type.Optional(FocalSchema),
    format: FormatSchema,
    quality: Type.Integer({ minimum: 1, maximum: 100 }),
    /** `#rgb`, `#rrggbb` or `#rrggbbaa`: the fill for `contain` and for flattening alpha into JPEG. */
    background: Type.Optional(Type.String({ pattern: '^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$' })),
    overlays: Type.Optional(Type.Array(OverlaySchema, { maxItems: MAX_OVERLAYS })),
    /** Encoder effort 0 (fastest) .. 9 (smallest); mapped onto each encoder's own range. */
    effort: Type.Optional(Type.Integer({ minimum: 0, maximum: 9 })),
    /**
     * Whether the source may be scaled up (absent: it may). `false`: when the fit would enlarge
     * the source, the same picture is rendered at the source's own resolution instead: every
     * output dimension divided by the enlargement factor, the aspect kept.
     */
    enlarge: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const OutputSchema = Type.Object({ s3: S3RefSchema }, { additionalProperties: false });

export const GeneratorRequestSchema = Type.Object(
  {
    v: Type.Literal(1),
    /** Request id: crosses from the Preprocessor into the Generator's logs. */
    id: Type.String({ minLength: 1, maxLength: 128 }),
    source: SourceSchema,
    spec: ImageSpecSchema,
    /**
     * The catalog's artwork version of `source`: the Generator reuses the master it holds for it
     * without asking S3, and a prewarm render without `output` is named with it
     * (`specKey(source, spec, version)`), as the Preprocessor names it.
     */
    version: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    /**
     * Keep the render in the derivative store, here: the Generator PUTs it after it has streamed
     * the bytes back (never before the caller has them), inside the derivatives prefix only.
     */
    output: Type.Optional(OutputSchema),
    /**
     * Write the output to the derivatives bucket (at `output`, else under the name the Generator
     * gives it) and stream no body back: a prewarm render, which no client waits for.
     */
    store: Type.Optional(Type.Literal(true)),
  },
  { additionalProperties: false },
);

export type Format = Static<typeof FormatSchema>;
export type Fit = Static<typeof FitSchema>;
export type Gravity = Static<typeof GravitySchema>;
export type S3Ref = Static<typeof S3RefSchema>;
export type Source = Static<typeof SourceSchema>;
export type Focal = Static<typeof FocalSchema>;
export type Overlay = Static<typeof OverlaySchema>;
export type ImageSpec = Static<typeof ImageSpecSchema>;
export type GeneratorRequest = Static<typeof GeneratorRequestSchema>;
