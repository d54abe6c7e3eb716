import type { PhaseWindow } from './schedule.js';
import type { RunStats } from './stats.js';

/** Width of the windows latency is judged over after the spike: a few seconds smooth out single slow replies. */
const WINDOW_S = 5;

export interface Recovery {
  /** p95 (ms) over the settled part of the base phase. */
  baselineP95Ms: number | undefined;
  /** The bar a window's p95 must come under: max(1.5 × baseline, baseline + 25 ms). */
  thresholdMs: number | undefined;
  /** When the rate came back to 1x (end of the last phase above it). */
  spikeEndS: number | undefined;
  /** Seconds after spikeEndS until two consecutive 5-s windows were back under the bar without shedding; null if never. */
  recoveredAfterS: number | null | undefined;
}

/**
 * How long latency took to come back to baseline after the spike. Undefined fields when the
 * scenario has no base phase before a spike (baseline, soak).
 */
export function measureRecovery(stats: RunStats, windows: readonly PhaseWindow[]): Recovery {
  const spikeIndex = windows.findIndex((w) => w.fromX > 1 || w.toX > 1);
  const base = windows.slice(0, Math.max(0, spikeIndex)).find((w) => w.fromX === 1 && w.toX === 1);
  let lastHigh: PhaseWindow | undefined;
  for (const w of windows) if (w.fromX > 1 || w.toX > 1) lastHigh = w;
  if (spikeIndex < 0 || !base || !lastHigh)
    return { baselineP95Ms: undefined, thresholdMs: undefined, spikeEndS: undefined, recoveredAfterS: undefined };

  // Skip the first fifth of the base phase: cold Generator environments and an empty cache.
  const baselineP95Ms = stats.windowPercentile(base.startS + base.durationS * 0.2, base.endS, 95);
  const spikeEndS = lastHigh.endS;
  if (baselineP95Ms === undefined) return { baselineP95Ms, thresholdMs: undefined, spikeEndS, recoveredAfterS: null };
  const thresholdMs = Math.max(baselineP95Ms * 1.5, baselineP95Ms + 25);
  const endS = windows[windows.length - 1]?.endS ?? spikeEndS;
  const calm = (from: number) => {
    const p95 = stats.windowPercentile(from, from + WINDOW_S, 95);
    return p95 !== undefined && p95 <= thresholdMs && stats.windowCount(from, from + WINDOW_S, 'shed') === 0;
  };
  for (let t = spikeEndS; t + 2 * WINDOW_S <= endS; t++) {
    if (calm(t) && calm(t + WINDOW_S)) return { baselineP95Ms, thresholdMs, spikeEndS, recoveredAfterS: t - spikeEndS };
  }
  return { baselineP95Ms, thresholdMs, spikeEndS, recoveredAfterS: null };
}
