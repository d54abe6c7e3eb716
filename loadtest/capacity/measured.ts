// Measured figures for the capacity model, read from a report this repo wrote: a bench report
// (`npm run bench`: per-class render time and CPU per image) or a load report (`npm run
// loadtest:spike`, with or without --cdn: render time of the mix, CPU per request, hit ratios).
// Each figure carries where it came from; what a report does not hold is left to the defaults.
import path from 'node:path';
import type { Sourced } from './prices.js';

export interface MeasuredFigures {
  generatorMs?: Sourced;
  generatorCpuMs?: Sourced;
  /** CPU ms of a request the Preprocessor answers from its cache, and of one that renders (on top of the render). */
  preprocessorHitCpuMs?: Sourced;
  preprocessorMissCpuMs?: Sourced;
  /** Or one figure for the mix, from a load report. */
  preprocessorCpuMs?: Sourced;
  hitRatio?: Sourced;
  originHitRatio?: Sourced;
  keptPerRender?: Sourced;
  /** Per class (format / size), for the printout. */
  classes: Array<{ name: string; generatorMs: number; cpuMs?: number }>;
  kind: 'bench' | 'load';
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json | undefined =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined;
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const r2 = (v: number) => Math.round(v * 100) / 100;

/** A bench report: arms with `result` and `cpu`, and `stages` per uncached spec. */
function fromBench(r: Json, file: string): MeasuredFigures {
  const arms = arr(r.arms)
    .map(obj)
    .filter((a): a is Json => a !== undefined);
  const stages = arr(r.stages)
    .map(obj)
    .filter((s): s is Json => s !== undefined);
  const at = `${path.basename(file)} (${str(r.startedAt) ?? '?'})`;
  const classes: MeasuredFigures['classes'] = [];
  const missCpu: number[] = [];
  for (const s of stages) {
    const name = str(s.name) ?? '?';
    const rows = arr(obj(s.stages)?.rows).map(obj);
    const stage = (label: string) => num(rows.find((x) => str(x?.stage) === label)?.ms);
    // Raw sharp's CPU per image for the same work: the render's own CPU, without the hops.
    const raw = arms.filter((a) => str(a.id)?.startsWith(`raw-${name}`));
    const rawCpu = raw.map((a) => num(obj(a.cpu)?.cpuPerImageMs)).filter((v): v is number => v !== undefined);
    const marquee = arms.find((a) => str(a.id) === `marquee-uncached-${name}`);
    const marqueeCpu = num(obj(marquee?.cpu)?.cpuPerImageMs);
    const fetch = stage('source fetch') ?? 0;
    if (rawCpu.length === 0) continue;
    const cpuMs = mean(rawCpu);
    // The bench drives 4 pipelines on 2 cores, so its wall times include waiting for a core; one
    // render alone (a Lambda environment runs one at a time) takes about its CPU time plus the fetch.
    classes.push({
      name: `${name}: ${str(marquee?.work) ?? ''}`.trim(),
      generatorMs: r2(cpuMs + fetch),
      cpuMs: r2(cpuMs),
    });
    if (marqueeCpu !== undefined) missCpu.push(marqueeCpu - cpuMs);
  }
  const hit = arms.find((a) => str(a.id) === 'marquee-hit');
  const hitCpu = num(obj(hit?.cpu)?.cpuPerImageMs);
  const out: MeasuredFigures = { classes, kind: 'bench' };
  if (classes.length > 0) {
    const names = classes.map((c) => c.name.split(':')[0]).join(', ');
    out.generatorMs = {
      value: r2(mean(classes.map((c) => c.generatorMs))),
      source: `${at}: mean over ${names} (equal shares) of raw sharp CPU ms/image + the Generator's source fetch (Server-Timing), i.e. one render alone`,
    };
    out.generatorCpuMs = {
      value: r2(mean(classes.map((c) => c.cpuMs ?? 0))),
      source: `${at}: raw sharp CPU ms/image, mean over ${names}`,
    };
  }
  if (hitCpu !== undefined)
    out.preprocessorHitCpuMs = { value: hitCpu, source: `${at}: Marquee cache hit, CPU ms per reply (stack process)` };
  if (missCpu.length > 0)
    out.preprocessorMissCpuMs = {
      value: r2(mean(missCpu)),
      source: `${at}: uncached Marquee CPU ms/image − raw sharp's (Preprocessor, local Lambda endpoint, s3rver, base64: an upper bound)`,
    };
  return out;
}

/** A load report: phases with stages, resources per phase, the target (CDN or not). */
function fromLoad(r: Json, file: string): MeasuredFigures {
  const phases = arr(r.phases)
    .map(obj)
    .filter((p): p is Json => p !== undefined);
  const resources = arr(r.resources)
    .map(obj)
    .filter((p): p is Json => p !== undefined);
  const judged = phases.filter((p) => p.warmup !== true);
  const at = `${path.basename(file)} (${str(obj(r.scenario)?.name) ?? '?'}, ${str(r.startedAt) ?? '?'})`;
  const out: MeasuredFigures = { classes: [], kind: 'load' };
  // Render time: the base phase when it rendered enough (uncontended), else every judged phase.
  const base = judged.find((p) => str(p.name) === 'base' || str(p.name) === 'steady');
  const renders = (p: Json) => num(obj(obj(p.stages)?.render)?.count) ?? 0;
  const pool = base && renders(base) >= 10 ? [base] : judged;
  let n = 0;
  let ms = 0;
  for (const p of pool) {
    const s = obj(p.stages);
    const count = renders(p);
    const fetch = num(obj(s?.fetch)?.mean) ?? 0;
    const render = num(obj(s?.render)?.mean) ?? 0;
    n += count;
    ms += count * (fetch + render);
  }
  const byName = new Map(resources.map((x) => [str(x.name), x]));
  // A render timed on a busy machine includes waiting for a core: say how busy it was.
  const busy = pool
    .map((p) => num(obj(byName.get(str(p.name))?.cpu)?.machine))
    .filter((v): v is number => v !== undefined);
  const busyNote =
    busy.length > 0
      ? `; the machine had ${r2(mean(busy))} cores busy meanwhile (everything on it): on a busy machine this includes waiting for a core`
      : '';
  if (n > 0)
    out.generatorMs = {
      value: r2(ms / n),
      source: `${at}: Server-Timing fetch + render of ${n} renders (${pool.length === 1 ? `phase ${str(pool[0]?.name)}` : 'judged phases'}), the scenario's format and size mix${busyNote}`,
    };
  let treeMs = 0;
  let mainMs = 0;
  let invocations = 0;
  let origin = 0;
  let sent = 0;
  let stores = 0;
  let storedRenders = 0;
  for (const p of judged) {
    const res = byName.get(str(p.name));
    const cpu = obj(res?.cpu);
    const t = num(cpu?.stackTreeMs);
    const m = num(cpu?.stackMainMs);
    const inv = num(res?.generatorInvocations);
    const o = num(res?.originRequests);
    if (t !== undefined && m !== undefined && inv !== undefined) {
      treeMs += t;
      mainMs += m;
      invocations += inv;
    }
    if (o !== undefined) {
      origin += o;
      sent += num(p.sent) ?? 0;
    }
    const st = num(res?.storeWrites);
    if (st !== undefined && inv !== undefined) {
      stores += st;
      storedRenders += inv;
    }
  }
  if (storedRenders > 0)
    out.keptPerRender = {
      value: r2(stores / storedRenders),
      source: `${at}: renders asked to keep (marquee_store_writes_total) / renders (/metrics), judged phases`,
    };
  if (invocations > 0)
    out.generatorCpuMs = {
      value: r2((treeMs - mainMs) / invocations),
      source: `${at}: CPU of the Generator environments (stack tree − stack main process) per invocation, judged phases`,
    };
  if (origin > 0) {
    out.preprocessorCpuMs = {
      value: r2(mainMs / origin),
      source: `${at}: CPU of the stack's main process per origin request (Preprocessor + s3rver + local Lambda endpoint: an upper bound), judged phases`,
    };
    out.originHitRatio = {
      value: r2(Math.max(0, 1 - invocations / origin)),
      source: `${at}: 1 − Generator invocations / origin requests, judged phases (output cache, derivative store, coalescing)`,
    };
  }
  if (obj(r.target)?.cdn === true && sent > 0)
    out.hitRatio = {
      value: r2(Math.max(0, 1 - origin / sent)),
      source: `${at}: 1 − origin requests / requests sent through the CDN, judged phases`,
    };
  return out;
}

/** The figures a report holds; throws when it is neither kind. */
export function measuredFrom(report: unknown, file: string): MeasuredFigures {
  const r = obj(report);
  if (r && Array.isArray(r.arms)) return fromBench(r, file);
  if (r && Array.isArray(r.phases)) return fromLoad(r, file);
  throw new Error(`${file}: neither a bench report (arms[]) nor a load report (phases[])`);
}

/** Several reports' figures: each figure from the first report that measured it. */
export function mergeMeasured(list: readonly MeasuredFigures[]): MeasuredFigures | undefined {
  const [first, ...rest] = list;
  if (!first) return undefined;
  const out: MeasuredFigures = { ...first, classes: [...first.classes] };
  for (const m of rest) {
    for (const [k, v] of Object.entries(m) as Array<[keyof MeasuredFigures, unknown]>) {
      if (k === 'classes' || k === 'kind') continue;
      if (out[k] === undefined) (out as unknown as Record<string, unknown>)[k] = v;
    }
    out.classes.push(...m.classes);
  }
  return out;
}
