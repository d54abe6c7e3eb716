import { Type, type Static } from '@sinclair/typebox';
import { ERROR_CODES } from './errors.js';

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
     * The artwork version the spec key includes (`specKey(source, spec, version)`), for a caller
     * that leaves naming the derivative to the Generator: without it an output too large to
     * return inline would be stored under a key that ignores the version, where the Preprocessor
     * never looks. Callers that name the object themselves (`output`) need not send it.
     */
    version: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    output: Type.Optional(OutputSchema),
    /**
     * Always write the output to the derivatives bucket (at `output`, else under the name the
     * Generator gives it) and return it without a body: a prewarm render, which no client waits for.
     */
    store: Type.Optional(Type.Literal(true)),
  },
  { additionalProperties: false },
);

/**
 * Lambda's asynchronous (`Event`) invocation payload limit: 1 MB (AWS raised it from 256 KB in
 * 2025; the local Lambda endpoint enforces the same). A store request over it is never sent.
 */
export const MAX_EVENT_PAYLOAD_BYTES = 1_048_576;

/** The content types the Generator writes, one per format. */
export const OUTPUT_CONTENT_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'image/avif'] as const;

/**
 * "Keep these bytes in the derivative store": sent by the Preprocessor after it has replied with
 * an output it rendered, as an asynchronous (`Event`) invocation, so that neither the client nor
 * the render waits for the PUT and the Preprocessor needs no write permission. The Generator
 * writes the object in the foreground of that invocation, only inside the derivatives prefix.
 */
export const StoreRequestSchema = Type.Object(
  {
    v: Type.Literal(1),
    kind: Type.Literal('store'),
    /** The id of the request whose render this is: crosses into the Generator's logs. */
    id: Type.String({ minLength: 1, maxLength: 128 }),
    /** `derivativeKey(specKey, format)` in the derivatives bucket. */
    target: Type.Object(
      { bucket: S3RefSchema.properties.bucket, key: S3RefSchema.properties.key },
      { additionalProperties: false },
    ),
    contentType: Type.Union(OUTPUT_CONTENT_TYPES.map((c) => Type.Literal(c))),
    /** The output's pixel size, as the render returned it (logged; the object is the bytes). */
    width: Dimension,
    height: Dimension,
    /** The image, base64; the whole event stays under MAX_EVENT_PAYLOAD_BYTES. */
    body: Type.String({ minLength: 4, maxLength: MAX_EVENT_PAYLOAD_BYTES }),
  },
  { additionalProperties: false },
);

/** Whether an event is a store request (by its `kind`; `parseStoreRequest` checks the rest). */
export function isStoreRequest(value: unknown): boolean {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'store';
}

export const TimingsSchema = Type.Object({
  fetchMs: Type.Number({ minimum: 0 }),
  renderMs: Type.Number({ minimum: 0 }),
});

export const GeneratorSuccessSchema = Type.Object({
  ok: Type.Literal(true),
  contentType: Type.String(),
  width: Type.Integer({ minimum: 1 }),
  height: Type.Integer({ minimum: 1 }),
  bytes: Type.Integer({ minimum: 0 }),
  body: Type.Optional(Type.String()),
  s3: Type.Optional(S3RefSchema),
  timings: TimingsSchema,
  coldStart: Type.Boolean(),
});

export const GeneratorFailureSchema = Type.Object({
  ok: Type.Literal(false),
  error: Type.Object({
    code: Type.Union(ERROR_CODES.map((c) => Type.Literal(c))),
    status: Type.Integer({ minimum: 400, maximum: 599 }),
    message: Type.String(),
  }),
});

export const GeneratorResultSchema = Type.Union([GeneratorSuccessSchema, GeneratorFailureSchema]);

export type Format = Static<typeof FormatSchema>;
export type Fit = Static<typeof FitSchema>;
export type Gravity = Static<typeof GravitySchema>;
export type S3Ref = Static<typeof S3RefSchema>;
export type Source = Static<typeof SourceSchema>;
export type Focal = Static<typeof FocalSchema>;
export type Overlay = Static<typeof OverlaySchema>;
export type ImageSpec = Static<typeof ImageSpecSchema>;
export type GeneratorRequest = Static<typeof GeneratorRequestSchema>;
export type StoreRequest = Static<typeof StoreRequestSchema>;
export type GeneratorSuccess = Static<typeof GeneratorSuccessSchema>;
export type GeneratorFailure = Static<typeof GeneratorFailureSchema>;
export type GeneratorResult = Static<typeof GeneratorResultSchema>;
