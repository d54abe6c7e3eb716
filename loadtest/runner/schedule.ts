import type { Phase, ScenarioDef } from '../scenarios/definitions.js';

export interface PhaseWindow extends Phase {
  index: number;
  startS: number;
  endS: number;
  /** Rates in requests per second at the phase's start and end. */
  fromRate: number;
  toRate: number;
}

/** The phases laid out on the run's clock. */
export function phaseWindows(def: ScenarioDef): PhaseWindow[] {
  let startS = 0;
  return def.phases.map((p, index) => {
    const w = {
      ...p,
      index,
      startS,
      endS: startS + p.durationS,
      fromRate: p.fromX * def.baseRate,
      toRate: p.toX * def.baseRate,
    };
    startS = w.endS;
    return w;
  });
}

/** The phase in force at `tS` seconds into the run (the last one past the end). */
export function phaseAt(windows: readonly PhaseWindow[], tS: number): PhaseWindow {
  for (const w of windows) if (tS < w.endS) return w;
  const last = windows[windows.length - 1];
  if (!last) throw new Error('a scenario needs at least one phase');
  return last;
}

/** Arrival rate (requests/s) at `tS`: linear within each phase. */
export function rateAt(windows: readonly PhaseWindow[], tS: number): number {
  const w = phaseAt(windows, tS);
  if (tS >= w.endS) return 0;
  const f = (tS - w.startS) / w.durationS;
  return w.fromRate + (w.toRate - w.fromRate) * f;
}

/**
 * Arrivals due by `tS`: the integral of the rate. The open model sends request n when this
 * passes n, whatever happened to the requests before it (k6's ramping-arrival-rate does the same).
 */
export function cumulativeArrivals(windows: readonly PhaseWindow[], tS: number): number {
  let total = 0;
  for (const w of windows) {
    if (tS >= w.endS) {
      total += ((w.fromRate + w.toRate) / 2) * w.durationS;
      continue;
    }
    const tau = Math.max(0, tS - w.startS);
    total += w.fromRate * tau + ((w.toRate - w.fromRate) * tau * tau) / (2 * w.durationS);
    break;
  }
  return total;
}

export function totalArrivals(windows: readonly PhaseWindow[]): number {
  const last = windows[windows.length - 1];
  return last ? Math.floor(cumulativeArrivals(windows, last.endS) + 1e-9) : 0;
}
