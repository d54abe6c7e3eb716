import type { Impact } from '@marquee/shared';
import { h } from './dom.js';
import { counted } from './words.js';

const COUNTS = ['changed', 'added', 'removed', 'unchanged'] as const;

function dollars(usd: number): string {
  return usd < 0.01 ? `$${usd.toFixed(4)}` : `$${usd.toFixed(2)}`;
}

function seconds(s: number): string {
  return s < 120 ? `${s.toFixed(1)} s` : `${(s / 60).toFixed(1)} min`;
}

function list(id: string, title: string, items: string[], total: number): HTMLElement | null {
  if (total === 0) return null;
  const more = total > items.length ? ` (the first ${items.length})` : '';
  return h(
    'details',
    { id },
    h('summary', {}, `${title}: ${total}${more}`),
    h('ul', { class: 'paths' }, ...items.map((p) => h('li', {}, h('code', {}, p)))),
  );
}

/**
 * What publishing the draft would do to every canonical artwork URL of the catalog in force, as
 * `npm run rules -- diff` reports it: counts, per type, re-render time and cost, and the CDN
 * invalidations that cover exactly what changed.
 */
export function impactView(impact: Impact): Array<HTMLElement | null> {
  const types = Object.entries(impact.byType);
  return [
    h('h3', {}, 'Impact on the catalog'),
    h(
      'p',
      { class: 'muted small' },
      `Every canonical artwork URL of ${counted(impact.titles, 'title')} (types × locales × sizes × DPRs × formats), current rules vs this draft.`,
    ),
    h(
      'div',
      { class: 'numbers' },
      ...COUNTS.map((k) =>
        h(
          'div',
          { class: `number ${k}`, id: `impact-${k}`, 'data-count': impact[k] },
          h('strong', {}, impact[k].toLocaleString('en')),
          h('span', {}, k),
        ),
      ),
    ),
    h(
      'table',
      { class: 'by-type' },
      h('tr', {}, h('th', {}, 'type'), ...COUNTS.map((k) => h('th', {}, k))),
      ...types.map(([type, c]) =>
        h(
          'tr',
          { 'data-type': type, class: c.changed + c.added + c.removed > 0 ? 'touched' : '' },
          h('th', {}, type),
          ...COUNTS.map((k) => h('td', {}, c[k].toLocaleString('en'))),
        ),
      ),
    ),
    h(
      'p',
      { id: 'impact-cost' },
      `Re-rendering: ${counted(impact.renders, 'image')}, ≈ ${seconds(impact.renderSeconds)} of Generator time, ≈ ${dollars(impact.costUsd)}.`,
    ),
    h('p', { class: 'muted small' }, impact.costBasis),
    list('impact-invalidations', 'CDN invalidations', impact.invalidations, impact.invalidations.length),
    list('impact-changed-paths', 'Changed URLs', impact.changedPaths, impact.changed),
    list('impact-added-paths', 'Added URLs', impact.addedPaths, impact.added),
  ];
}
