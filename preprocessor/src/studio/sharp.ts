import { MarqueeError } from '@marquee/shared';

type Sharp = (typeof import('sharp'))['default'];
let loading: Promise<Sharp> | undefined;

/**
 * sharp, loaded on first use (an upload's check, a heat map), not at start: the Preprocessor is
 * otherwise pure JavaScript, and an image without sharp must still serve artwork (those studio
 * features then fail with 500).
 */
export function loadSharp(): Promise<Sharp> {
  const pending =
    loading ??
    import('sharp').then(
      (m) => m.default,
      (err: unknown) => {
        loading = undefined;
        throw new MarqueeError('INTERNAL', 'This studio feature needs sharp, which is not installed on this server.', {
          cause: err,
        });
      },
    );
  loading = pending;
  return pending;
}
