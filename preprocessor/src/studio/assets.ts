import { readFile } from 'node:fs/promises';
import { MarqueeError } from '@marquee/shared';

export type AssetName = 'app.js' | 'app.css';
export type Assets = Record<AssetName, Buffer>;

export const ASSET_TYPES: Record<AssetName, string> = {
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
};

/** `npm run build:ui` writes here; from src/ (tsx) and dist/ alike it is preprocessor/dist/studio-ui. */
const PREBUILT_DIRS = [new URL('../studio-ui/', import.meta.url), new URL('../../dist/studio-ui/', import.meta.url)];
/** The build script, for a checkout where the bundle was not built yet (esbuild is a devDependency). */
const BUILD_SCRIPT = new URL('../../scripts/build-ui.mjs', import.meta.url);

async function readPrebuilt(): Promise<Assets | undefined> {
  for (const dir of PREBUILT_DIRS) {
    try {
      const [js, css] = await Promise.all([readFile(new URL('app.js', dir)), readFile(new URL('app.css', dir))]);
      return { 'app.js': js, 'app.css': css };
    } catch {
      // Not built in this layout; try the next.
    }
  }
  return undefined;
}

async function bundleNow(): Promise<Assets> {
  const script = (await import(BUILD_SCRIPT.href)) as { bundleStudioUi(): Promise<Partial<Assets>> };
  const files = await script.bundleStudioUi();
  const js = files['app.js'];
  const css = files['app.css'];
  if (!js || !css) throw new Error('the studio bundle is missing app.js or app.css');
  return { 'app.js': js, 'app.css': css };
}

/**
 * The studio's browser bundle, loaded once per process: the prebuilt files when present,
 * else bundled in memory with esbuild. Neither: a 500 naming the build command.
 */
export function assetLoader(): () => Promise<Assets> {
  let loading: Promise<Assets> | undefined;
  return () => {
    loading ??= (async () => (await readPrebuilt()) ?? (await bundleNow()))().catch((err: unknown) => {
      loading = undefined;
      throw new MarqueeError('INTERNAL', 'The studio UI is not built: run `npm run build:ui -w preprocessor`.', {
        cause: err,
      });
    });
    return loading;
  };
}
