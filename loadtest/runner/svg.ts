// Small, dependency-free SVG charts for the HTML report (it must open offline).

export interface Series {
  name: string;
  color: string;
  points: ReadonlyArray<readonly [number, number]>;
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
  height?: number;
}

const PAD = { left: 60, right: 130, top: 34, bottom: 32 };
const BAND_FILLS = ['#f3f6fb', '#fdf3e7'];

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function fmt(v: number): string {
  if (v >= 1e6) return `${+(v / 1e6).toFixed(1)}M`;
  if (v >= 1e3) return `${+(v / 1e3).toFixed(1)}k`;
  return `${+v.toFixed(v < 10 ? 1 : 0)}`;
}

/** One chart as an <svg> element string. */
export function chart(o: ChartOptions): string {
  const width = o.width ?? 960;
  const height = o.height ?? 260;
  const plotW = width - PAD.left - PAD.right;
  const plotH = height - PAD.top - PAD.bottom;
  const xMax = Math.max(1, o.xMax);

  // Stacking: each series sits on the sum of those before it, by x.
  const drawn: Array<{ s: Series; top: Array<[number, number]>; bottom: Array<[number, number]> }> = [];
  const base = new Map<number, number>();
  for (const s of o.series) {
    const top: Array<[number, number]> = [];
    const bottom: Array<[number, number]> = [];
    for (const [x, y] of s.points) {
      const b = o.stacked ? (base.get(x) ?? 0) : 0;
      bottom.push([x, b]);
      top.push([x, b + y]);
      if (o.stacked) base.set(x, b + y);
    }
    drawn.push({ s, top, bottom });
  }
  const yMaxRaw = Math.max(0, ...drawn.flatMap((d) => d.top.map(([, y]) => y)));
  const log = o.log === true;
  const yMin = log
    ? Math.max(
        0.1,
        Math.pow(
          10,
          Math.floor(
            Math.log10(
              Math.max(
                0.1,
                Math.min(...drawn.flatMap((d) => d.top.map(([, y]) => y).filter((y) => y > 0)), yMaxRaw || 1),
              ),
            ),
          ),
        ),
      )
    : 0;
  const yMax = log ? Math.pow(10, Math.ceil(Math.log10(Math.max(yMaxRaw, yMin * 10)))) : niceMax(yMaxRaw);
  const sx = (x: number) => PAD.left + (x / xMax) * plotW;
  const sy = (y: number) => {
    if (log) {
      const v = Math.max(yMin, y);
      return PAD.top + plotH - ((Math.log10(v) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))) * plotH;
    }
    return PAD.top + plotH - (y / yMax) * plotH;
  };

  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
  );
  parts.push(`<text x="${PAD.left}" y="14" font-size="13" font-weight="bold">${escapeXml(o.title)}</text>`);
  (o.bands ?? []).forEach((b, i) => {
    const x0 = sx(Math.max(0, b.from));
    const x1 = sx(Math.min(xMax, b.to));
    parts.push(
      `<rect class="phase" data-phase="${escapeXml(b.name)}" x="${x0.toFixed(1)}" y="${PAD.top}" width="${Math.max(0, x1 - x0).toFixed(1)}" height="${plotH}" fill="${BAND_FILLS[i % 2]}"/>`,
    );
    parts.push(`<text x="${(x0 + 3).toFixed(1)}" y="${PAD.top - 4}" fill="#667">${escapeXml(b.name)}</text>`);
  });
  // Axes and grid.
  const ticks = log
    ? Array.from({ length: Math.round(Math.log10(yMax / yMin)) + 1 }, (_, i) => yMin * Math.pow(10, i))
    : [0, 0.25, 0.5, 0.75, 1].map((f) => f * yMax);
  for (const t of ticks) {
    parts.push(
      `<line x1="${PAD.left}" x2="${PAD.left + plotW}" y1="${sy(t).toFixed(1)}" y2="${sy(t).toFixed(1)}" stroke="#ddd"/>`,
    );
    parts.push(`<text x="${PAD.left - 6}" y="${(sy(t) + 4).toFixed(1)}" text-anchor="end">${fmt(t)}</text>`);
  }
  const xStep = niceMax(xMax / 10);
  for (let x = 0; x <= xMax; x += xStep) {
    parts.push(`<text x="${sx(x).toFixed(1)}" y="${PAD.top + plotH + 14}" text-anchor="middle">${fmt(x)}s</text>`);
  }
  parts.push(
    `<text x="14" y="${PAD.top + plotH / 2}" transform="rotate(-90 14 ${PAD.top + plotH / 2})" text-anchor="middle">${escapeXml(o.yLabel)}</text>`,
  );
  parts.push(`<rect x="${PAD.left}" y="${PAD.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#999"/>`);

  drawn.forEach(({ s, top, bottom }, i) => {
    if (top.length === 0) return;
    const line = top.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ');
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
        `<polyline class="series" data-series="${escapeXml(s.name)}" points="${line}" fill="none" stroke="${s.color}" stroke-width="1.6"/>`,
      );
    }
    const ly = PAD.top + 6 + i * 16;
    parts.push(`<rect x="${PAD.left + plotW + 10}" y="${ly}" width="10" height="10" fill="${s.color}"/>`);
    parts.push(`<text x="${PAD.left + plotW + 24}" y="${ly + 9}">${escapeXml(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}
