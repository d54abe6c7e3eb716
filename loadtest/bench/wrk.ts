import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { childEnv } from '@marquee/shared';
import type { Figures } from './figures.js';
import type { TimingSums } from './stages.js';

/** The Lua script sits in the source tree; the compiled module finds it from dist/ too. */
function luaScript(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const inSource = path.join(here, 'lua', 'paths.lua');
  return here.includes(`${path.sep}dist${path.sep}`)
    ? path.join(here, '..', '..', 'bench', 'lua', 'paths.lua')
    : inSource;
}

export interface WrkOptions {
  /** Origin, e.g. http://127.0.0.1:8080 */
  origin: string;
  /** Requested in order, round-robin; with an optional Accept header each. */
  paths: ReadonlyArray<string | { path: string; accept: string }>;
  connections: number;
  threads?: number;
  durationS: number;
  timeoutS?: number;
  /** Read every reply's Server-Timing header (a little wrk CPU per reply: uncached arms only). */
  serverTiming?: boolean;
}

export interface WrkResult extends Figures {
  tool: 'wrk';
  /** Per Server-Timing name: sum of durations (ms) and replies carrying it; only with `serverTiming`. */
  serverTiming?: TimingSums;
}

/** Runs wrk (Debian's /usr/bin/wrk) and reads the JSON line its Lua `done` prints. */
export async function runWrk(o: WrkOptions): Promise<WrkResult> {
  const dir = await mkdtemp(path.join(tmpdir(), 'marquee-wrk-'));
  try {
    const file = path.join(dir, 'paths.txt');
    await writeFile(file, o.paths.map((p) => (typeof p === 'string' ? p : `${p.path}\t${p.accept}`)).join('\n') + '\n');
    const args = [
      `-t${o.threads ?? 1}`,
      `-c${o.connections}`,
      `-d${o.durationS}s`,
      `--timeout`,
      `${o.timeoutS ?? 30}s`,
      '-s',
      luaScript(),
      `${o.origin}/`,
    ];
    const output = await new Promise<string>((resolve, reject) => {
      const child = spawn('wrk', args, {
        env: childEnv({ WRK_PATHS: file, ...(o.serverTiming ? { WRK_SERVER_TIMING: '1' } : {}) }),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      child.on('error', (err) =>
        reject(new Error(`wrk could not start (is it installed? apt-get install wrk): ${err.message}`)),
      );
      child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`wrk exited with ${code}: ${out}`))));
    });
    const line = output.split('\n').find((l) => l.startsWith('WRK_JSON '));
    if (!line) throw new Error(`wrk printed no summary: ${output}`);
    const j = JSON.parse(line.slice('WRK_JSON '.length)) as Record<string, number>;
    const num = (k: string) => j[k] ?? 0;
    const durationS = num('durationUs') / 1e6;
    const timingLine = output.split('\n').find((l) => l.startsWith('WRK_TIMING '));
    const serverTiming = timingLine ? (JSON.parse(timingLine.slice('WRK_TIMING '.length)) as TimingSums) : undefined;
    return {
      tool: 'wrk',
      requests: num('requests'),
      durationS,
      rps: durationS > 0 ? num('requests') / durationS : 0,
      meanMs: num('mean') / 1000,
      p50Ms: num('p50') / 1000,
      p90Ms: num('p90') / 1000,
      p99Ms: num('p99') / 1000,
      maxMs: num('max') / 1000,
      non2xx: num('non2xx'),
      socketErrors: num('connect') + num('read') + num('write') + num('timeout'),
      ...(serverTiming ? { serverTiming } : {}),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
