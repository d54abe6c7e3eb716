import type { SkippedFile } from '../import/index.js';
import type { TryUrl } from '../import/urls.js';

/** URL lines shown at most: a folder of a thousand images is summarised, not listed. */
export const MAX_URLS_SHOWN = 20;

export interface BannerInput {
  /** Seconds from the process start to now. */
  seconds: number;
  /** Where clients go: the CDN with `--cdn`, else the Preprocessor. */
  base: string;
  urls: readonly TryUrl[];
  /** A line under the URLs: what is being served. */
  serving: string;
  skipped?: readonly SkippedFile[];
  /** Files imported with a word (a PNG named `.jpg`). */
  warnings?: readonly SkippedFile[];
  studio: { url: string; token: string | undefined };
  /** With `--cdn`: Varnish's address (on `MARQUEE_LOCAL_CDN_PORT`) and the Preprocessor's behind it. */
  cdn?: { url: string; origin: string } | undefined;
  metricsUrl: string;
  dataDir: string;
  rules: string;
  notice?: string | undefined;
}

/** Pads `url` so the notes after it line up. */
function lines(items: readonly { left: string; right: string }[]): string[] {
  const width = Math.max(0, ...items.map((i) => i.left.length));
  return items.map((i) => `  ${i.left.padEnd(width)}  ${i.right}`.trimEnd());
}

/**
 * What an import says of single files, for a person: those skipped (with why) and those imported
 * with a word. Empty when it has nothing to say. The banner shows it, and so does each re-import.
 */
export function fileNotes(input: { skipped?: readonly SkippedFile[]; warnings?: readonly SkippedFile[] }): string[] {
  const out: string[] = [];
  const skipped = input.skipped ?? [];
  if (skipped.length > 0) {
    out.push('', `Skipped ${skipped.length} ${skipped.length === 1 ? 'file' : 'files'} (not imported):`);
    out.push(...lines(skipped.map((s) => ({ left: s.file, right: s.reason }))));
  }
  const warnings = input.warnings ?? [];
  if (warnings.length > 0) {
    out.push('', `Imported ${warnings.length} ${warnings.length === 1 ? 'file' : 'files'} with a warning:`);
    out.push(...lines(warnings.map((s) => ({ left: s.file, right: s.reason }))));
  }
  return out;
}

/**
 * The plain-text block `npm start` prints once it is up: what to try (one URL a line, on the port
 * it listens on), the studio and its token, where the data is, how to stop. For a person: the JSON
 * logs before and after it are for machines.
 */
export function banner(input: BannerInput): string {
  const out: string[] = ['', `Marquee is up (${input.seconds.toFixed(1)} s). ${input.serving}`, ''];
  const shown = input.urls.slice(0, MAX_URLS_SHOWN);
  out.push(...lines(shown.map((u) => ({ left: u.url, right: u.note }))));
  if (input.urls.length > shown.length) out.push(`  … and ${input.urls.length - shown.length} more`);
  out.push(...fileNotes(input));
  out.push(
    '',
    ...lines([
      {
        left: 'Studio:',
        right: `${input.studio.url}   token: ${input.studio.token ?? 'the MARQUEE_STUDIO_TOKEN you set'}`,
      },
      ...(input.cdn
        ? [
            {
              left: 'CDN:',
              right: `${input.cdn.url}   (Varnish in front of ${input.cdn.origin}; its port: MARQUEE_LOCAL_CDN_PORT)`,
            },
          ]
        : []),
      { left: 'Metrics:', right: input.metricsUrl },
      { left: 'Rules:', right: `${input.rules}   (npm run rules -- check|diff|publish)` },
      { left: 'Data:', right: `${input.dataDir}   (the local S3's objects; delete it to start afresh)` },
      { left: 'Stop:', right: 'Ctrl-C   (drains the requests in flight, ends the Generator environments)' },
    ]).map((l) => l.slice(2)),
  );
  if (input.notice) out.push('', input.notice);
  out.push('');
  return `${out.join('\n')}\n`;
}

/** The sample catalog's showcase: each URL shows one feature (titles from `seed/titles.ts`'s SHOWCASE). */
export function sampleUrls(base: string): TryUrl[] {
  const a = `${base}/v1/artwork`;
  return [
    { url: `${a}/boxshot/80000001/342x513.jpg`, note: 'a boxshot with its Top 10 badge, in English' },
    { url: `${a}/boxshot/80000001/342x513.jpg?locale=fr`, note: 'the French artwork: its own title' },
    {
      url: `${a}/boxshot/80000001/342x513.auto?locale=pt-BR`,
      note: 'Brazilian Portuguese, AVIF or WebP if your Accept allows',
    },
    { url: `${a}/boxshot/80000007/342x513.jpg?locale=fr`, note: 'Top 10 and New badges, the title clear of both' },
    { url: `${a}/billboard/80000002/1280x720.webp?locale=fr`, note: 'a billboard in WebP' },
    { url: `${a}/logo/80000003/600x200.png`, note: 'a logo on transparency' },
    { url: `${a}/boxshot/80000003/300.avif`, note: 'a 308 to the canonical size, 342x513' },
  ];
}
