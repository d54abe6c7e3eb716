import type { PhaseWindow } from './schedule.js';
import type { RunStats } from './stats.js';

/** Window latency is judged over after the spike: a few seconds smooth out single slow replies. */
const WINDOW_S = 5;
/**
 * Replies a window (and the base phase) must expect at the base rate for its p95 to mean anything:
 * below it, p95 is the slowest reply or two, and recovery is not judged (a smoke run is too short).
 */
const MIN_REPLIES = 10;

export interface Recovery {
  /** p95 (ms) over the base phase: the 1x phase before the spike, the warm-up excluded. */
  baselineP95Ms: number | undefined;
  /** The bar a window's p95 must come under: max(1.5 × baseline, baseline + 25 ms). */
  thresholdMs: number | undefined;
  /** When the rate came back to 1x (end of the last phase above it). */
  spikeEndS: number | undefined;
  /** Width of the windows judged (s): 5, or wider when the base rate would leave fewer than 10 replies in one. */
  windowS: number | undefined;
  /** Seconds after spikeEndS until two consecutive windows were back under the bar without shedding; null if never. */
  recoveredAfterS: number | null | undefined;
  /** Why recovery cannot be judged in this run (too short, too few replies), when it cannot. */
  unjudgeable?: string;
}

const NONE: Recovery = {
  baselineP95Ms: undefined,
  thresholdMs: undefined,
  spikeEndS: undefined,
  windowS: undefined,
  recoveredAfterS: undefined,
};

/** The phase the spike is compared with: at 1x, before the first phase above 1x, not a warm-up. */
export function basePhase(windows: readonly PhaseWindow[]): PhaseWindow | undefined {
  const spikeIndex = windows.findIndex((w) => w.fromX > 1 || w.toX > 1);
  if (spikeIndex < 0) return undefined;
  return windows
    .slice(0, spikeIndex)
    .reverse()
    .find((w) => w.fromX === 1 && w.toX === 1 && !w.warmup);
}

/**
 * How long latency took to come back to baseline after the spike. Undefined fields when the
 * scenario has no base phase before a spike (baseline, soak).
 */
export function measureRecovery(stats: RunStats, windows: readonly PhaseWindow[]): Recovery {
  const base = basePhase(windows);
  let lastHigh: PhaseWindow | undefined;
  for (const w of windows) if (w.fromX > 1 || w.toX > 1) lastHigh = w;
  if (!base || !lastHigh) return NONE;

  const spikeEndS = lastHigh.endS;
  const endS = windows[windows.length - 1]?.endS ?? spikeEndS;
  const windowS = Math.max(WINDOW_S, Math.ceil(MIN_REPLIES / Math.max(1e-9, base.fromRate)));
  const none = { baselineP95Ms: undefined, thresholdMs: undefined, spikeEndS, windowS, recoveredAfterS: null };
  if (base.durationS * base.fromRate < MIN_REPLIES)
    return {
      ...none,
      unjudgeable: `the base phase expects ${Math.round(base.durationS * base.fromRate)} replies, fewer than ${MIN_REPLIES}`,
    };
  if (endS - spikeEndS < 2 * windowS)
    return {
      ...none,
      unjudgeable: `${(endS - spikeEndS).toFixed(1)} s after the spike, shorter than two ${windowS}-s windows`,
    };
  const baselineP95Ms = stats.windowPercentile(base.startS, base.endS, 95);
  if (baselineP95Ms === undefined) return none;
  const thresholdMs = Math.max(baselineP95Ms * 1.5, baselineP95Ms + 25);
  const calm = (from: number) => {
    const p95 = stats.windowPercentile(from, from + windowS, 95);
    return p95 !== undefined && p95 <= thresholdMs && stats.windowCount(from, from + windowS, 'shed') === 0;
  };
  for (let t = spikeEndS; t + 2 * windowS <= endS + 1e-9; t++) {
    if (calm(t) && calm(t + windowS))
      return { baselineP95Ms, thresholdMs, spikeEndS, windowS, recoveredAfterS: t - spikeEndS };
  }
  return { baselineP95Ms, thresholdMs, spikeEndS, windowS, recoveredAfterS: null };
}
