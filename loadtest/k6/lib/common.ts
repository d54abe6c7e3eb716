// The k6 side of the scenarios: options and the iteration, built from the shared definitions.
import http from 'k6/http';
import { check } from 'k6';
import exec from 'k6/execution';
import { Counter, Rate, Trend } from 'k6/metrics';
import type { Options } from 'k6/options';
import { k6Stages, phaseNameAt, scaleScenario, type ScenarioDef } from '../../scenarios/definitions.ts';
import { applySlo, k6Thresholds, parseSlos } from '../../scenarios/limits.ts';
import { SEEDED_UNIVERSE, enumerateKeys } from '../../scenarios/universe.ts';
import { ZipfSampler, mulberry32 } from '../../scenarios/zipf.ts';

/** Replies that are explicit shedding: the server said "later" rather than failing. */
const shed = new Rate('marquee_shed');
/** Anything else that is not a success: 5xx without Retry-After, unexpected 4xx, network errors. */
const errors = new Rate('marquee_errors');
const okLatency = new Trend('marquee_ok_latency', true);
const byStatus = new Counter('marquee_status');

function envNumber(name: string): number | undefined {
  const raw = __ENV[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got "${raw}"`);
  return value;
}

/**
 * The scenario with the rates and durations given as `-e BASE_RATE=… -e TIME_SCALE=… -e MAX_VUS=…`,
 * and its limits overridden as the runner's `--slo` does: `-e SLO="p99Ms=2000 spike.maxShedRate=0.05"`.
 */
export function scenarioFromEnv(def: ScenarioDef): ScenarioDef {
  const baseRate = envNumber('BASE_RATE');
  const timeScale = envNumber('TIME_SCALE');
  const maxInFlight = envNumber('MAX_VUS');
  const zipfS = envNumber('ZIPF_S');
  const scaled = scaleScenario(def, {
    ...(baseRate !== undefined ? { baseRate } : {}),
    ...(timeScale !== undefined ? { timeScale } : {}),
    ...(maxInFlight !== undefined ? { maxInFlight: Math.round(maxInFlight) } : {}),
  });
  const slo = (__ENV.SLO ?? '').split(/[\s,]+/).filter((x) => x !== '');
  const limited = applySlo(scaled, parseSlos(slo, scaled.phases));
  return zipfS !== undefined ? { ...limited, zipfS } : limited;
}

export function makeOptions(def: ScenarioDef): Options {
  const { startRate, stages } = k6Stages(def);
  return {
    discardResponseBodies: true,
    scenarios: {
      [def.name]: {
        executor: 'ramping-arrival-rate',
        startRate,
        timeUnit: '1s',
        stages,
        preAllocatedVUs: Math.min(def.maxInFlight, Math.max(10, Math.round(def.baseRate * 2))),
        maxVUs: def.maxInFlight,
      },
    },
    // The runner's per-phase limits (scenarios/limits.ts), on submetrics tagged with the phase; the
    // warm-up is not judged. Recovery and memory growth need the runner (a time series, /metrics).
    thresholds: {
      ...k6Thresholds(def),
      checks: ['rate>0.99'],
    },
    summaryTrendStats: ['avg', 'min', 'med', 'p(90)', 'p(95)', 'p(99)', 'max'],
  };
}

function baseUrl(): string {
  const url = __ENV.BASE_URL ?? 'http://127.0.0.1:8080';
  return url.replace(/\/+$/, '');
}

/** The function each arrival runs: draw a key from the Zipf mix, request it, classify the reply. */
export function makeIteration(def: ScenarioDef): () => void {
  const keys = enumerateKeys(SEEDED_UNIVERSE);
  // Each VU draws its own sequence; the same seed and VU number give the same draws run to run.
  const sampler = new ZipfSampler(keys.length, def.zipfS, mulberry32(def.seed * 7919 + __VU));
  const base = baseUrl();
  return () => {
    const key = keys[sampler.sample()];
    if (!key) return;
    // The phase this arrival belongs to, as the runner counts it: the per-phase thresholds filter on it.
    const phase = phaseNameAt(def, (Date.now() - exec.scenario.startTime) / 1000);
    const tags = { phase };
    const res = http.get(`${base}${key.path}`, {
      headers: { Accept: key.accept },
      redirects: 0,
      tags: { name: `${key.type} ${key.width}x${key.height}.${key.ext}`, phase },
    });
    const retryAfter = res.headers['Retry-After'] !== undefined;
    const isShed = (res.status === 503 || res.status === 429) && retryAfter;
    const ok = res.status === 200 || res.status === 304;
    byStatus.add(1, { status: String(res.status), phase });
    shed.add(isShed, tags);
    errors.add(!ok && !isShed && res.status !== 308, tags);
    if (ok) okLatency.add(res.timings.duration, tags);
    check(res, {
      'status is 200, 304, 308 or shed with Retry-After': () => ok || isShed || res.status === 308,
      '200 is an image': () => res.status !== 200 || (res.headers['Content-Type'] ?? '').startsWith('image/'),
    });
  };
}
