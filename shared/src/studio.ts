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
  {
    renders: Type.Array(RenderRequestSchema, { minItems: 1 }),
    /**
     * The artwork type the renders are proposed for: each is then checked against the current
     * rules of that type (`notAllowed`), and a render without `q` gets the quality those rules
     * give its format and size class, so proposed and served bytes compare like for like.
     */
    type: Type.Optional(Type.String({ maxLength: 64 })),
  },
  { additionalProperties: false },
);

/** A request as signed (numbers read, focal point rounded) with its signed, expiring URL. */
export const SignedRenderSchema = Type.Object(
  {
    ...RenderRequestSchema.properties,
    url: Type.String(),
    /** With a `type`: why the current rules would not serve this render as asked (absent: they would). */
    notAllowed: Type.Optional(Type.Array(Type.String())),
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

// ---- /studio/api/drafts ---------------------------------------------------------------------

/** A draft's id: 64 random bits in hex, the last segment of its object key and of its link. */
export const DRAFT_ID_PATTERN = '^[0-9a-f]{16}$';
export const DraftIdSchema = Type.String({ pattern: DRAFT_ID_PATTERN });
/** A draft's revision: the first 16 hex digits of the SHA-256 of its text. */
export const DraftRevSchema = Type.String({ pattern: '^[0-9a-f]{16}$' });
/** A rules file is about 12 kB with its comments; twenty times that is a mistake, not a draft. */
export const MAX_DRAFT_BYTES = 256 * 1024;
const DraftText = Type.String({ maxLength: MAX_DRAFT_BYTES });

/** Why a rules text is refused: the loader's own message, and where (JSON pointer, line, column). */
export const RulesProblemSchema = Type.Object(
  {
    message: Type.String(),
    /** JSON pointer of the field at fault (`/types/boxshot/overlays/0/scale`); absent for a syntax error. */
    field: Type.Optional(Type.String()),
    /** 1-based, in the text as sent. */
    line: Type.Optional(Type.Integer({ minimum: 1 })),
    column: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  { additionalProperties: false },
);

/** A saved draft of the rules: text, revision, and the rules version it was opened from. */
export const DraftSchema = Type.Object(
  {
    id: DraftIdSchema,
    yaml: Type.String(),
    rev: DraftRevSchema,
    /** ISO 8601. */
    savedAt: Type.String(),
    /** The ETag of the rules in force when the draft was opened. */
    base: Type.String(),
    /** Whether those rules are still the ones in force (else the draft was opened from older rules). */
    baseInForce: Type.Boolean(),
    /** The studio link that opens it: `/studio?draft=<id>`. */
    link: Type.String(),
  },
  { additionalProperties: false },
);

export const DraftSummarySchema = Type.Object(
  { id: DraftIdSchema, savedAt: Type.String(), bytes: Type.Integer({ minimum: 0 }) },
  { additionalProperties: false },
);

export const DraftListSchema = Type.Object({ drafts: Type.Array(DraftSummarySchema) }, { additionalProperties: false });

/** Without `yaml`: a draft of the rules in force, their text as written (comments kept). */
export const CreateDraftSchema = Type.Object({ yaml: Type.Optional(DraftText) }, { additionalProperties: false });
export const SaveDraftSchema = Type.Object({ yaml: DraftText }, { additionalProperties: false });
export const ValidateRulesSchema = Type.Object({ yaml: DraftText }, { additionalProperties: false });
export const ValidateRulesReplySchema = Type.Object(
  { ok: Type.Boolean(), problem: Type.Optional(RulesProblemSchema) },
  { additionalProperties: false },
);

// ---- POST /studio/api/previews, /studio/api/compare ----------------------------------------

/**
 * Artwork as the artwork route resolves it, under the rules in force (`current`) or a draft's:
 * a catalog title, or a staged upload (`src`) resolved as a title without flags.
 */
export const PreviewItemSchema = Type.Object(
  {
    rules: Type.Union([Type.Literal('current'), Type.Literal('draft')]),
    type: Type.String({ maxLength: 64 }),
    titleId: Type.Optional(Type.String({ maxLength: 64 })),
    src: Type.Optional(Type.String({ maxLength: 512 })),
    /** A catalog locale; absent: the rules' default (and its fallback chain). */
    locale: Type.Optional(Type.String({ maxLength: 35 })),
    /** Logical size, as in the artwork URL. */
    width: Dimension,
    height: Dimension,
    dpr: Type.Integer({ minimum: 1, maximum: 4 }),
    format: FormatSchema,
  },
  { additionalProperties: false },
);

const DraftRefSchema = Type.Object({ id: DraftIdSchema, rev: DraftRevSchema }, { additionalProperties: false });

export const PreviewRequestSchema = Type.Object(
  {
    /** Required when any render asks for `rules: draft`. */
    draft: Type.Optional(DraftRefSchema),
    renders: Type.Array(PreviewItemSchema, { minItems: 1 }),
  },
  { additionalProperties: false },
);

/** One resolved render: its signed URL and what the resolution decided. */
export const PreviewSchema = Type.Object(
  {
    /** Signed, expiring, `Cache-Control: private, no-store`. */
    url: Type.String(),
    /** The spec key: equal keys are the same bytes. */
    key: Type.String(),
    /** The artwork URL production serves these bytes under (catalog titles only). */
    artworkUrl: Type.Optional(Type.String()),
    /** The catalog locale served. */
    locale: Type.String(),
    /** Output pixels asked of the Generator. */
    width: Type.Integer({ minimum: 1 }),
    height: Type.Integer({ minimum: 1 }),
    quality: Type.Integer({ minimum: 1, maximum: 100 }),
    effort: Type.Optional(Type.Integer({ minimum: 0 })),
    fit: FitSchema,
    /** Overlay sources drawn (e.g. `badges/top10.png`). */
    badges: Type.Array(Type.String()),
  },
  { additionalProperties: false },
);

const RefusalSchema = Type.Object({ code: Type.String(), message: Type.String() }, { additionalProperties: false });

export const PreviewResultSchema = Type.Object(
  {
    ...PreviewItemSchema.properties,
    preview: Type.Optional(PreviewSchema),
    /** Why these rules serve no image here (the artwork route's error). */
    error: Type.Optional(RefusalSchema),
  },
  { additionalProperties: false },
);

export const PreviewReplySchema = Type.Object(
  { expiresAt: Type.String(), renders: Type.Array(PreviewResultSchema) },
  { additionalProperties: false },
);

export const CompareRequestSchema = Type.Object(
  {
    draft: DraftRefSchema,
    type: Type.String({ maxLength: 64 }),
    titleId: Type.String({ maxLength: 64 }),
    /** The locale whose tiles to render; every locale of the title is counted. */
    locale: Type.Optional(Type.String({ maxLength: 35 })),
    dpr: Type.Integer({ minimum: 1, maximum: 4 }),
    /** Formats to render tiles of (all are counted). */
    formats: Type.Array(FormatSchema, { minItems: 1, maxItems: 4 }),
  },
  { additionalProperties: false },
);

export const COMPARE_STATUSES = ['changed', 'added', 'removed', 'unchanged'] as const;
const CompareStatusSchema = Type.Union(COMPARE_STATUSES.map((s) => Type.Literal(s)));
export type CompareStatus = Static<typeof CompareStatusSchema>;

export const CompareItemSchema = Type.Object(
  {
    /** Logical size and DPR, as in the artwork URL. */
    width: Type.Integer({ minimum: 1 }),
    height: Type.Integer({ minimum: 1 }),
    dpr: Type.Integer({ minimum: 1 }),
    format: FormatSchema,
    /** The artwork URL path both sides answer. */
    path: Type.String(),
    status: CompareStatusSchema,
    current: Type.Optional(PreviewSchema),
    draft: Type.Optional(PreviewSchema),
    /** Signed URL of a heat map of the two renders' difference (changed items only). */
    diff: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

export const CompareCountsSchema = Type.Object(
  {
    locale: Type.String(),
    changed: Type.Integer({ minimum: 0 }),
    added: Type.Integer({ minimum: 0 }),
    removed: Type.Integer({ minimum: 0 }),
    unchanged: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
);

export const CompareReplySchema = Type.Object(
  {
    expiresAt: Type.String(),
    /** The locale the items are of. */
    locale: Type.String(),
    /** The items' URLs (the chosen DPR and formats), changed first. */
    items: Type.Array(CompareItemSchema),
    /** Every URL of the title's artwork of this type, all DPRs and formats, per locale. */
    locales: Type.Array(CompareCountsSchema),
  },
  { additionalProperties: false },
);

// ---- GET /studio/api/drafts/:id/impact ------------------------------------------------------

const Count = Type.Integer({ minimum: 0 });
export const ImpactCountsSchema = Type.Object(
  { changed: Count, added: Count, removed: Count, unchanged: Count },
  { additionalProperties: false },
);

/**
 * What publishing a draft would do to every canonical artwork URL of the catalog in force
 * (`diffRules` in `preprocessor/src/rules/diff.ts`, as `npm run rules -- diff` reports it).
 */
export const ImpactSchema = Type.Object(
  {
    draft: DraftRefSchema,
    /** The documents compared against: the rules and catalog in force. */
    rulesEtag: Type.String(),
    catalogEtag: Type.String(),
    ...ImpactCountsSchema.properties,
    titles: Count,
    byType: Type.Record(Type.String(), ImpactCountsSchema),
    /** Distinct images to render for what changed or was added. */
    renders: Count,
    renderSeconds: Type.Number({ minimum: 0 }),
    costUsd: Type.Number({ minimum: 0 }),
    costBasis: Type.String(),
    /** CDN path patterns covering exactly the changed and removed URLs. */
    invalidations: Type.Array(Type.String()),
    /** The first `pathsShown` changed and added URLs (the counts above are complete). */
    changedPaths: Type.Array(Type.String()),
    addedPaths: Type.Array(Type.String()),
    pathsShown: Count,
  },
  { additionalProperties: false },
);

// ---- POST /studio/api/drafts/:id/publish ---------------------------------------------------

export const PublishDraftSchema = Type.Object(
  {
    /** The revision on screen: a draft saved again since is not published in its place. */
    rev: DraftRevSchema,
    /** Who publishes, for the history (the studio token names no one). */
    author: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: '^[^\\u0000-\\u001f]*$' })),
  },
  { additionalProperties: false },
);

export const PublishReplySchema = Type.Object(
  {
    /** False when these rules were in force already (nothing written). */
    published: Type.Boolean(),
    /** Where the rules were written: the Preprocessor's rules location. */
    target: Type.String(),
    /** The history entry (`npm run rules -- rollback <id>` restores the rules it replaced). */
    historyId: Type.String(),
    previousEtag: Type.Optional(Type.String()),
    etag: Type.String(),
    /** The rules version this Preprocessor serves now (reloaded at once; others within their poll). */
    servedEtag: Type.String(),
    ...ImpactCountsSchema.properties,
    invalidations: Type.Array(Type.String()),
    /** What happened to the CDN and the store, in words. */
    invalidation: Type.String(),
    prewarm: Type.String(),
  },
  { additionalProperties: false },
);

export type ImpactCounts = Static<typeof ImpactCountsSchema>;
export type PublishDraft = Static<typeof PublishDraftSchema>;
export type PublishReply = Static<typeof PublishReplySchema>;
export type Impact = Static<typeof ImpactSchema>;
export type RulesProblem = Static<typeof RulesProblemSchema>;
export type Draft = Static<typeof DraftSchema>;
export type DraftSummary = Static<typeof DraftSummarySchema>;
export type DraftList = Static<typeof DraftListSchema>;
export type CreateDraft = Static<typeof CreateDraftSchema>;
export type SaveDraft = Static<typeof SaveDraftSchema>;
export type ValidateRules = Static<typeof ValidateRulesSchema>;
export type ValidateRulesReply = Static<typeof ValidateRulesReplySchema>;
export type PreviewItem = Static<typeof PreviewItemSchema>;
export type PreviewRequest = Static<typeof PreviewRequestSchema>;
export type Preview = Static<typeof PreviewSchema>;
export type PreviewResult = Static<typeof PreviewResultSchema>;
export type PreviewReply = Static<typeof PreviewReplySchema>;
export type CompareRequest = Static<typeof CompareRequestSchema>;
export type CompareItem = Static<typeof CompareItemSchema>;
export type CompareCounts = Static<typeof CompareCountsSchema>;
export type CompareReply = Static<typeof CompareReplySchema>;
export type StudioType = Static<typeof StudioTypeSchema>;
export type StudioTitle = Static<typeof StudioTitleSchema>;
export type StudioCatalog = Static<typeof StudioCatalogSchema>;
export type RenderParams = Static<typeof RenderParamsSchema>;
export type RenderRequest = Static<typeof RenderRequestSchema>;
export type SignRequest = Static<typeof SignRequestSchema>;
export type SignedRender = Static<typeof SignedRenderSchema>;
export type SignReply = Static<typeof SignReplySchema>;
export type StagedUpload = Static<typeof StagedUploadSchema>;
