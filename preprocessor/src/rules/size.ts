import { MarqueeError } from '@marquee/shared';
import { fitsMax, formatSize, heightOn, type Size, type TypeModel } from './model.js';

/** What the size policy decided for a request. */
export type SizeDecision = { kind: 'render'; size: Size } | { kind: 'redirect'; size: Size };

/**
 * The logical size to render, or the canonical size to redirect to, under the
 * type's size policy. `dpr` scales to output pixels, which must stay within
 * the type's max.
 *
 * - `snap`: an exact allowed size renders; anything else (including a W-only
 *   request, so the CDN holds one URL per image) redirects to the smallest
 *   allowed size at or above it in both dimensions, else to the largest. Only
 *   sizes that fit the max at this DPR are candidates.
 * - `strict`: only the allowed sizes.
 * - `any`: any size within the max (over it: refused), snapped as `snap`
 *   does onto the type's ladder instead of its listed sizes, so unsigned URLs
 *   cannot cause more than `TypeModel.renders` renders. Ladder sizes are on
 *   the aspect; a box off it is snapped by the picture it holds (`pictureIn`).
 *   The ladder's top at each DPR is the widest size on the aspect that fits,
 *   so a request on the aspect within the max is never snapped down.
 */
export function decideSize(type: TypeModel, width: number, height: number | undefined, dpr: number): SizeDecision {
  const requested: Size = { width, height: height ?? heightFor(type, width) };
  const same = (s: Size) => s.width === requested.width && s.height === requested.height;

  if (type.sizePolicy === 'strict') {
    if (!type.sizes.some(same)) throw notAllowed(type, requested);
    if (!fitsMax(type.rules, requested, dpr)) throw tooLarge(type, requested, dpr);
    return { kind: 'render', size: requested };
  }
  // Over the max is the client's mistake under `any`, as it was before ladders: refused, not shrunk.
  if (type.sizePolicy === 'any' && !fitsMax(type.rules, requested, dpr)) throw tooLarge(type, requested, dpr);
  const candidates = type.sizesAt.get(dpr) ?? [];
  if (candidates.length === 0) throw tooLarge(type, requested, dpr);
  if (height !== undefined && candidates.some(same)) return { kind: 'render', size: requested };
  // A W-only URL asks for that width: its height is ours, rounded, not a box to fit into.
  const target = type.sizePolicy === 'any' && height !== undefined ? pictureIn(type, requested) : requested;
  return { kind: 'redirect', size: snap(candidates, target) };
}

/**
 * What a box shows of the artwork. `contain` and `inside` draw the whole
 * picture inside it (a 300x300 box holds 300x100 of a 3:1 logo, the rest is
 * padding), so a ladder size holding that picture shows the same; `cover`
 * and `fill` fill the box.
 */
function pictureIn(type: TypeModel, box: Size): Size {
  if (type.fit !== 'contain' && type.fit !== 'inside') return box;
  const { width: aw, height: ah } = type.aspect;
  if (box.width * ah <= box.height * aw)
    return { width: box.width, height: Math.min(box.height, heightOn(type.aspect, box.width)) };
  return { width: Math.max(1, Math.round((box.height * aw) / ah)), height: box.height };
}

/**
 * The height for a W-only request: an allowed size of that width when there
 * is one (its height is the aspect's, rounded as the rules chose: `171` on 2:3
 * is `171x256`), else the aspect's height rounded.
 */
export function heightFor(type: TypeModel, width: number): number {
  return type.sizes.find((s) => s.width === width)?.height ?? heightOn(type.aspect, width);
}

const area = (s: Size) => s.width * s.height;

function snap(candidates: readonly Size[], requested: Size): Size {
  const byArea = [...candidates].sort((a, b) => area(a) - area(b) || a.width - b.width);
  const above = byArea.find((s) => s.width >= requested.width && s.height >= requested.height);
  return above ?? (byArea.at(-1) as Size);
}

function notAllowed(type: TypeModel, requested: Size): MarqueeError {
  const allowedSizes = type.sizes.map(formatSize);
  return new MarqueeError(
    'SIZE_NOT_ALLOWED',
    `size ${formatSize(requested)} is not allowed for ${type.name}; allowed sizes: ${allowedSizes.join(', ')}`,
    { extra: { allowedSizes } },
  );
}

function tooLarge(type: TypeModel, requested: Size, dpr: number): MarqueeError {
  const { maxWidth, maxHeight } = type.rules;
  const pixels = `${requested.width * dpr}x${requested.height * dpr}`;
  const asked = dpr === 1 ? formatSize(requested) : `${formatSize(requested)}@${dpr}x (${pixels} pixels)`;
  const message =
    type.sizePolicy === 'snap'
      ? `no allowed size of ${type.name} fits its max of ${maxWidth}x${maxHeight} pixels at ${dpr}x`
      : `size ${asked} is over the ${type.name} max of ${maxWidth}x${maxHeight} pixels`;
  const extra: Record<string, unknown> = { maxWidth, maxHeight };
  if (type.sizePolicy !== 'any') extra.allowedSizes = type.sizes.map(formatSize);
  return new MarqueeError('SIZE_NOT_ALLOWED', message, { extra });
}
