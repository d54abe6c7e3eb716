/** What every bench arm reports, whatever drove it. */
export interface Figures {
  requests: number;
  durationS: number;
  rps: number;
  /** Mean latency (ms); absent from reports written before it was added. */
  meanMs?: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  non2xx: number;
  socketErrors: number;
}

/** CPU spent by the contender (every process of it) during the measured window. */
export interface CpuFigures {
  cpuMs: number;
  /** cpuMs / images served (2xx) in the window. */
  cpuPerImageMs: number;
  /** Mean cores busy: cpuMs / window. */
  cores: number;
  processes: number;
  source: string;
}

/** Images actually served: requests less the failed ones. */
export function goodRequests(f: Figures): number {
  return Math.max(0, f.requests - f.non2xx - f.socketErrors);
}
