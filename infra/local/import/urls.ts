import { eachDerivativeUrl } from '@marquee/preprocessor';
import type { ImportReport } from './index.js';

type UniverseArgs = Parameters<typeof eachDerivativeUrl>;

/** A URL to try and what it shows. */
export interface TryUrl {
  url: string;
  note: string;
  /** For an imported image: its source key. */
  key?: string;
}

/** Formats a browser or `curl -o x.jpg` shows without asking: JPEG, else PNG, else the type's first. */
const PREFERRED = ['jpeg', 'png', 'webp', 'avif'];

/**
 * One URL per imported image: the canonical URL of the type's middle listed size at 1x, in JPEG
 * (PNG for a type without it), with `?locale=` for other locales than the default. Each is a URL
 * the artwork route answers with a 200 (it comes from the same resolution), so none is a redirect.
 */
export function importedUrls(
  base: string,
  rules: UniverseArgs[0],
  report: ImportReport,
  sourcesBucket: string,
): TryUrl[] {
  const out: TryUrl[] = [];
  for (const image of report.images) {
    const candidates = [
      ...eachDerivativeUrl(rules, report.catalog, {
        sourcesBucket,
        filter: { titleId: image.titleId, type: image.type, locale: image.locale },
      }),
    ].filter(
      (u) =>
        u.dpr === 1 &&
        u.format !== 'auto' &&
        // The default locale's URL has no `locale`; every other locale's names it.
        (image.locale.toLowerCase() === rules.defaultLocale.toLowerCase()
          ? u.requestLocale === undefined
          : u.requestLocale?.toLowerCase() === image.locale.toLowerCase()),
    );
    const format = PREFERRED.find((f) => candidates.some((u) => u.format === f));
    const sized = candidates.filter((u) => u.format === format).sort((a, b) => a.width - b.width);
    const pick = sized[Math.floor((sized.length - 1) / 2)];
    if (pick)
      out.push({ url: `${base}${pick.path}`, note: `${image.file} (${image.type}, ${image.locale})`, key: image.key });
  }
  return out;
}
