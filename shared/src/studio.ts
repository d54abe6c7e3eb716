import { Type, type Static } from '@sinclair/typebox';
import { TitleSchema } from './catalog.js';
import { FitSchema, FormatSchema, MAX_OUTPUT_DIMENSION } from './schema.js';

/**
 * The studio API (`/studio/api/*`) on the wire: what the Preprocessor's studio routes
 * (`preprocessor/src/studio`) send and the studio page (`preprocessor/studio-ui`) reads.
 * The page imports the types only (`import type`), so no TypeBox reaches its bundle.
 */

const Dimension = Type.Integer({ minimum: 1, maximum: MAX_OUTPUT_DIMENSION });
const Unit = Type.Number({ minimum: 0, maximum: 1 });

// ---- GET /studio/api/catalog ---------------------------------------------------------------

/** How a type treats sizes off its list (the rules' `sizePolicy`). */
export const SIZE_POLICIES = ['snap', 'strict', 'any'] as const;
const SizePolicySchema = Type.Union(SIZE_POLICIES.map((p) => Type.Literal(p)));
export type SizePolicy = Static<typeof SizePolicySchema>;

/** One artwork type as the rules define it (`listTypes` in `preprocessor/src/rules/resolve.ts`), named. */
export const StudioTypeSchema = Type.Object(
  {
    name: Type.String(),
    /** Human note from the rules. */
    description: Type.Optional(Type.String()),
    /** `W:H`, e.g. `2:3`. */
    aspect: Type.String(),
    /** Logical sizes, `WxH`, in the rules' order. */
    sizes: Type.Array(Type.String()),
    sizePolicy: SizePolicySchema,
    /** Output pixel bounds, applied after DPR. */
    maxWidth: Dimension,
    maxHeight: Dimension,
    /** Allowed formats, best first. */
    formats: Type.Array(FormatSchema),
    fit: FitSchema,
    dpr: Type.Array(Type.Integer({ minimum: 1 })),
    /** Whether the source may be scaled up; if not, larger sizes get the source's own resolution. */
    enlarge: Type.Boolean(),
    /** The most distinct renders per title, locale and format, whatever URLs are asked for. */
    renders: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
);

/** A catalog title with its id, flags always present. */
export const StudioTitleSchema = Type.Object(
  {
    id: Type.String(),
    name: TitleSchema.properties.name,
    flags: Type.Array(Type.String()),
    /** type → locale → artwork, as in the catalog. */
    artwork: TitleSchema.properties.artwork,
  },
  { additionalProperties: false },
);

/** The catalog as the studio page shows it: the rules' types, then the titles by name. */
export const StudioCatalogSchema = Type.Object(
  {
    defaultLocale: Type.String(),
    types: Type.Array(StudioTypeSchema),
    titles: Type.Array(StudioTitleSchema),
  },
  { additionalProperties: false },
);

// ---- POST /studio/api/sign -----------------------------------------------------------------

/**
 * The image parameters of a `/v1/render` URL, as read: the route and the signer parse them
 * with one function (`preprocessor/src/render-params.ts`), which also accepts them as text.
 */
export const RenderParamsSchema = Type.Object(
  {
    w: Dimension,
    h: Dimension,
    fit: Type.Optional(FitSchema),
    fmt: Type.Optional(FormatSchema),
    q: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
    /** Focal point: give both or neither. */
    fx: Type.Optional(Unit),
    fy: Type.Optional(Unit),
  },
  { additionalProperties: false },
);

/** One render to sign: a source key (a catalog source or a staged upload) and its parameters. */
export const RenderRequestSchema = Type.Object(
  {
    src: Type.String({ minLength: 1, maxLength: 512 }),
    ...RenderParamsSchema.properties,
  },
  { additionalProperties: false },
);

export const SignRequestSchema = Type.Object(
  { renders: Type.Array(RenderRequestSchema, { minItems: 1 }) },
  { additionalProperties: false },
);

/** A request as signed (numbers read, focal point rounded) with its signed, expiring URL. */
export const SignedRenderSchema = Type.Object(
  {
    ...RenderRequestSchema.properties,
    url: Type.String(),
  },
  { additionalProperties: false },
);

export const SignReplySchema = Type.Object(
  {
    /** When every URL of the reply stops working (ISO 8601). */
    expiresAt: Type.String(),
    /** In the order asked. */
    renders: Type.Array(SignedRenderSchema),
  },
  { additionalProperties: false },
);

// ---- POST /studio/api/upload ---------------------------------------------------------------

/** Formats a master may arrive in: what the Generator reads and browsers preview. */
export const UPLOAD_FORMATS = ['jpeg', 'png', 'webp', 'avif'] as const;
const UploadFormatSchema = Type.Union(UPLOAD_FORMATS.map((f) => Type.Literal(f)));
export type UploadFormat = Static<typeof UploadFormatSchema>;

/** An upload, checked and staged under a fresh key in the sources bucket. */
export const StagedUploadSchema = Type.Object(
  {
    /** `staging/<32 hex>.<ext>`: what to sign renders of. */
    key: Type.String(),
    /** The file name as given. */
    name: Type.String(),
    format: UploadFormatSchema,
    /** Size after EXIF orientation, as the Generator renders it. */
    width: Type.Integer({ minimum: 1 }),
    height: Type.Integer({ minimum: 1 }),
    bytes: Type.Integer({ minimum: 0 }),
    contentType: Type.String(),
  },
  { additionalProperties: false },
);

export type StudioType = Static<typeof StudioTypeSchema>;
export type StudioTitle = Static<typeof StudioTitleSchema>;
export type StudioCatalog = Static<typeof StudioCatalogSchema>;
export type RenderParams = Static<typeof RenderParamsSchema>;
export type RenderRequest = Static<typeof RenderRequestSchema>;
export type SignRequest = Static<typeof SignRequestSchema>;
export type SignedRender = Static<typeof SignedRenderSchema>;
export type SignReply = Static<typeof SignReplySchema>;
export type StagedUpload = Static<typeof StagedUploadSchema>;
