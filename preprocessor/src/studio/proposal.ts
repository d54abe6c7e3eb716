import { MarqueeError, type Fit, type Format } from '@marquee/shared';
import { formatSize, sizeClassOf, tuningOf, typeModel, typeNames } from '../rules/model.js';
import type { Rules } from '../rules/schema.js';
import { decideSize } from '../rules/size.js';

/** A proposed render as `/v1/render` reads it: absent fit and format are its defaults. */
export interface Proposal {
  w: number;
  h: number;
  fit?: Fit | undefined;
  fmt?: Format | undefined;
}

export interface Verdict {
  /** Why the rules of the type would not serve this render as asked; empty when they would. */
  notAllowed: string[];
  /** The quality the rules give this format at this width (their size class). */
  quality: number | undefined;
}

/** The defaults of `/v1/render` (routes/render.ts): what a proposal without them renders as. */
const RENDER_DEFAULT_FIT: Fit = 'cover';
const RENDER_DEFAULT_FORMAT: Format = 'jpeg';

/**
 * A proposed render held against the current rules of an artwork type, at 1x: whether they allow
 * its format, fit and size (the artwork route's own size decision), and the quality they would
 * encode it at. A proposal may try anything; the page marks what production would not serve.
 */
export function judgeProposal(rules: Rules, typeName: string, p: Proposal): Verdict {
  const type = typeModel(rules, typeName);
  if (!type) {
    throw new MarqueeError('UNKNOWN_TYPE', `unknown artwork type ${JSON.stringify(typeName.slice(0, 40))}`, {
      extra: { types: typeNames(rules) },
    });
  }
  const fmt = p.fmt ?? RENDER_DEFAULT_FORMAT;
  const fit = p.fit ?? RENDER_DEFAULT_FIT;
  const notAllowed: string[] = [];
  if (!type.formats.includes(fmt)) notAllowed.push(`format ${fmt}: ${type.name} allows ${type.formats.join(', ')}`);
  if (fit !== type.fit) notAllowed.push(`fit ${fit}: ${type.name} is fitted with ${type.fit}`);
  const asked = formatSize({ width: p.w, height: p.h });
  try {
    const decision = decideSize(type, p.w, p.h, 1);
    if (decision.kind === 'redirect') {
      notAllowed.push(`size ${asked}: the artwork route redirects it to ${formatSize(decision.size)}`);
    }
  } catch (err) {
    if (!(err instanceof MarqueeError)) throw err;
    notAllowed.push(err.message);
  }
  const cls = sizeClassOf(rules.sizeClasses, p.w);
  return { notAllowed, quality: tuningOf(rules, type.rules, fmt, cls?.name).quality };
}
