/** Which CDN a publish invalidates: as the Preprocessor's config and the rules CLI name it. */
export type InvalidationTarget =
  { backend: 'varnish'; url: string } | { backend: 'cloudfront'; distributionId: string };

/** `MARQUEE_INVALIDATION`'s spelling: `none`, `varnish:<url>` or `cloudfront:<distribution id>`. */
export const INVALIDATION_PATTERN = '^(none|varnish:https?://[^\\s]+|cloudfront:[A-Z0-9]{1,64})$';

/** Parses a value `INVALIDATION_PATTERN` accepts (the env schema checked it); `none` is no target. */
export function parseInvalidationTarget(text: string): InvalidationTarget | undefined {
  if (text.startsWith('varnish:')) return { backend: 'varnish', url: text.slice('varnish:'.length) };
  if (text.startsWith('cloudfront:'))
    return { backend: 'cloudfront', distributionId: text.slice('cloudfront:'.length) };
  return undefined;
}
