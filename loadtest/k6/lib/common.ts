// The k6 side of the scenarios: options and the iteration, built from the shared definitions.
import http from 'k6/http';
import { check } from 'k6';
import { Counter, Rate, Trend } from 'k6/metrics';
import type { Options } from 'k6/options';
import { k6Stages, scaleScenario, type ScenarioDef } from '../../scenarios/definitions.ts';
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

/** The scenario with the rates and durations given as `-e BASE_RATE=… -e TIME_SCALE=… -e MAX_VUS=…`. */
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
  return zipfS !== undefined ? { ...scaled, zipfS } : scaled;
}

export function makeOptions(def: ScenarioDef): Options {
  const { startRate, stages } = k6Stages(def);
  const t = def.thresholds;
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
    thresholds: {
      marquee_errors: [{ threshold: `rate<${t.maxErrorRate}`, abortOnFail: false }],
      marquee_ok_latency: [`p(95)<${t.p95Ms}`, `p(99)<${t.p99Ms}`],
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
    const res = http.get(`${base}${key.path}`, {
      headers: { Accept: key.accept },
      redirects: 0,
      tags: { name: `${key.type} ${key.width}x${key.height}.${key.ext}` },
    });
    const retryAfter = res.headers['Retry-After'] !== undefined;
    const isShed = (res.status === 503 || res.status === 429) && retryAfter;
    const ok = res.status === 200 || res.status === 304;
    byStatus.add(1, { status: String(res.status) });
    shed.add(isShed);
    errors.add(!ok && !isShed && res.status !== 308);
    if (ok) okLatency.add(res.timings.duration);
    check(res, {
      'status is 200, 304, 308 or shed with Retry-After': () => ok || isShed || res.status === 308,
      '200 is an image': () => res.status !== 200 || (res.headers['Content-Type'] ?? '').startsWith('image/'),
    });
  };
}
