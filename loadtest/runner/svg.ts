// Small, dependency-free SVG charts for the HTML report (it must open offline).

export interface Series {
  name: string;
  color: string;
  points: ReadonlyArray<readonly [number, number]>;
  /** Drawn dashed: a previous run's figures beside this one's. */
  dashed?: boolean;
}

export interface Band {
  name: string;
  from: number;
  to: number;
}

export interface ChartOptions {
  title: string;
  yLabel: string;
  xMax: number;
  series: readonly Series[];
  /** Shaded spans of x (the phases), labelled at the top. */
  bands?: readonly Band[];
  /** Stack the series as areas (counts by class) instead of drawing lines. */
  stacked?: boolean;
  log?: boolean;
  width?: number;
  /** Height of the plot area; the chart grows by the band labels' and the legend's rows. */
  plotHeight?: number;
}

const PAD = { left: 64, right: 24 };
const BAND_FILLS = ['#f3f6fb', '#fdf3e7'];
const FONT_PX = 11;
/** Mean advance of an 11 px sans-serif glyph: a safe over-estimate for laying out labels. */
const CHAR_PX = 6.6;
const LINE_PX = 15;

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Width a label takes, estimated (no font metrics in a string builder). */
export function textWidth(s: string): number {
  return s.length * CHAR_PX;
}

/** A step of 1, 2 or 5 × 10^k such that about `target` steps cover `range`. */
export function niceStep(range: number, target = 5): number {
  if (!(range > 0)) return 1;
  const raw = range / target;
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  for (const m of [1, 2, 5]) if (m * p >= raw) return m * p;
  return 10 * p;
}

/** Linear ticks from 0 to a round top above `max` (5 % headroom: a line at the maximum stays off the frame). */
export function linearTicks(max: number, target = 5): number[] {
  const m = (max > 0 ? max : 1) * 1.05;
  const step = niceStep(m, target);
  const top = Math.max(step, Math.ceil(m / step - 1e-9) * step);
  const ticks: number[] = [];
  for (let i = 0; i * step <= top + step * 1e-9; i++) ticks.push(Math.round(i * step * 1e9) / 1e9);
  return ticks;
}

/** Decade ticks (1, 10, 100 …), with 2 and 5 between them when the range spans at most two decades. */
export function logTicks(min: number, max: number): number[] {
  const decades: number[] = [];
  for (let v = min; v <= max * (1 + 1e-9); v *= 10) decades.push(v);
  if (decades.length > 3) return decades;
  const out: number[] = [];
  for (const d of decades) for (const m of [1, 2, 5]) if (d * m <= max * (1 + 1e-9)) out.push(d * m);
  return out;
}

export function fmtTick(v: number): string {
  if (v >= 1e6) return `${+(v / 1e6).toFixed(1)}M`;
  if (v >= 1e3) return `${+(v / 1e3).toFixed(1)}k`;
  if (v === 0) return '0';
  return `${+v.toPrecision(3)}`;
}

export interface PlacedLabel {
  text: string;
  x: number;
  row: number;
}

/**
 * Places labels left to right, each at its x, on the first row where it does not overlap the
 * label before it on that row (a short phase's name drops to the next row instead of colliding).
 */
export function placeLabels(labels: ReadonlyArray<{ text: string; x: number }>, gap = 6): PlacedLabel[] {
  const rowEnds: number[] = [];
  return labels.map(({ text, x }) => {
    let row = rowEnds.findIndex((end) => end + gap <= x);
    if (row < 0) row = rowEnds.length;
    rowEnds[row] = x + textWidth(text);
    return { text, x, row };
  });
}

/** Legend entries flowed into rows no wider than `width`: full names, never cut. */
export function flowLegend(names: readonly string[], width: number): Array<{ name: string; x: number; row: number }> {
  const out: Array<{ name: string; x: number; row: number }> = [];
  let x = 0;
  let row = 0;
  for (const name of names) {
    const w = 16 + textWidth(name) + 14;
    if (x > 0 && x + w > width) {
      row++;
      x = 0;
    }
    out.push({ name, x, row });
    x += w;
  }
  return out;
}

/** One chart as an <svg> element string. */
export function chart(o: ChartOptions): string {
  const width = o.width ?? 960;
  const plotW = width - PAD.left - PAD.right;
  const plotH = o.plotHeight ?? 200;
  const xMax = Math.max(1, o.xMax);
  const sx = (x: number) => PAD.left + (x / xMax) * plotW;

  // A label starts at its band; one that would run off the plot's right edge is pulled back inside.
  const bandLabels = placeLabels(
    (o.bands ?? []).map((b) => ({
      text: b.name,
      x: Math.max(PAD.left, Math.min(sx(Math.max(0, b.from)) + 3, PAD.left + plotW - textWidth(b.name))),
    })),
  );
  const bandRows = bandLabels.reduce((m, l) => Math.max(m, l.row + 1), 0);
  const top = 24 + bandRows * LINE_PX + 4;
  const visible = o.series.filter((s) => s.points.length > 0);
  const legend = flowLegend(
    visible.map((s) => s.name),
    plotW,
  );
  const legendRows = legend.reduce((m, l) => Math.max(m, l.row + 1), 0);
  const axisBottom = top + plotH;
  const legendTop = axisBottom + 34;
  const height = legendTop + legendRows * LINE_PX + 6;

  // Stacking: each series sits on the sum of those before it, by x.
  const drawn: Array<{ s: Series; top: Array<[number, number]>; bottom: Array<[number, number]> }> = [];
  const base = new Map<number, number>();
  for (const s of visible) {
    const topPts: Array<[number, number]> = [];
    const bottom: Array<[number, number]> = [];
    for (const [x, y] of s.points) {
      const b = o.stacked ? (base.get(x) ?? 0) : 0;
      bottom.push([x, b]);
      topPts.push([x, b + y]);
      if (o.stacked) base.set(x, b + y);
    }
    drawn.push({ s, top: topPts, bottom });
  }
  const ys = drawn.flatMap((d) => d.top.map(([, y]) => y));
  const yMaxRaw = Math.max(0, ...ys);
  const log = o.log === true;
  const positive = ys.filter((y) => y > 0);
  const yMin = log ? Math.pow(10, Math.floor(Math.log10(Math.max(0.1, Math.min(...positive, yMaxRaw || 1))))) : 0;
  const yMax = log ? Math.pow(10, Math.ceil(Math.log10(Math.max(yMaxRaw, yMin * 10)))) : 0;
  const ticks = log ? logTicks(yMin, yMax) : linearTicks(yMaxRaw);
  const yTop = log ? yMax : (ticks[ticks.length - 1] ?? 1);
  const sy = (y: number) => {
    if (log) {
      const v = Math.max(yMin, y);
      return top + plotH - ((Math.log10(v) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))) * plotH;
    }
    return top + plotH - (y / yTop) * plotH;
  };

  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="${FONT_PX}">`,
  );
  parts.push(`<text x="${PAD.left}" y="15" font-size="13" font-weight="bold">${escapeXml(o.title)}</text>`);
  (o.bands ?? []).forEach((b, i) => {
    const x0 = sx(Math.max(0, b.from));
    const x1 = sx(Math.min(xMax, b.to));
    parts.push(
      `<rect class="phase" data-phase="${escapeXml(b.name)}" x="${x0.toFixed(1)}" y="${top}" width="${Math.max(0, x1 - x0).toFixed(1)}" height="${plotH}" fill="${BAND_FILLS[i % 2]}"/>`,
    );
  });
  for (const l of bandLabels) {
    const y = 24 + (l.row + 1) * LINE_PX - 4;
    parts.push(`<text class="phase-label" x="${l.x.toFixed(1)}" y="${y}" fill="#556">${escapeXml(l.text)}</text>`);
  }
  for (const t of ticks) {
    const y = sy(t).toFixed(1);
    parts.push(`<line x1="${PAD.left}" x2="${PAD.left + plotW}" y1="${y}" y2="${y}" stroke="#ddd"/>`);
    parts.push(`<text x="${PAD.left - 6}" y="${(sy(t) + 4).toFixed(1)}" text-anchor="end">${fmtTick(t)}</text>`);
  }
  const xStep = niceStep(xMax, 10);
  for (let x = 0; x <= xMax + 1e-9; x += xStep) {
    const px = sx(x).toFixed(1);
    parts.push(`<line x1="${px}" x2="${px}" y1="${axisBottom}" y2="${axisBottom + 4}" stroke="#999"/>`);
    parts.push(`<text x="${px}" y="${axisBottom + 16}" text-anchor="middle">${fmtTick(x)}</text>`);
  }
  parts.push(
    `<text x="${PAD.left + plotW}" y="${axisBottom + 29}" text-anchor="end" fill="#556">seconds into the run</text>`,
  );
  parts.push(
    `<text x="14" y="${top + plotH / 2}" transform="rotate(-90 14 ${top + plotH / 2})" text-anchor="middle">${escapeXml(o.yLabel)}</text>`,
  );
  parts.push(`<rect x="${PAD.left}" y="${top}" width="${plotW}" height="${plotH}" fill="none" stroke="#999"/>`);

  drawn.forEach(({ s, top: pts, bottom }) => {
    const line = pts.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ');
    if (o.stacked) {
      const back = [...bottom]
        .reverse()
        .map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`)
        .join(' ');
      parts.push(
        `<polygon class="series" data-series="${escapeXml(s.name)}" points="${line} ${back}" fill="${s.color}" fill-opacity="0.75" stroke="none"/>`,
      );
    } else {
      parts.push(
        `<polyline class="series" data-series="${escapeXml(s.name)}" points="${line}" fill="none" stroke="${s.color}" stroke-width="1.6"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/>`,
      );
    }
  });
  for (const l of legend) {
    const s = visible.find((v) => v.name === l.name) as Series;
    const x = PAD.left + l.x;
    const y = legendTop + l.row * LINE_PX;
    parts.push(
      s.dashed
        ? `<line x1="${x}" x2="${x + 12}" y1="${y + 5}" y2="${y + 5}" stroke="${s.color}" stroke-width="2" stroke-dasharray="4 2"/>`
        : `<rect x="${x}" y="${y}" width="12" height="10" fill="${s.color}"/>`,
    );
    parts.push(`<text class="legend" x="${x + 16}" y="${y + 9}">${escapeXml(l.name)}</text>`);
  }
  parts.push('</svg>');
  return parts.join('\n');
}
