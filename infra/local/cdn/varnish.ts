import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ConfigError, DEFAULT_CACHE_TAG_HEADER } from '@marquee/shared';

/** Debian's package with vmod xkey, which the VCL imports for purges by cache tag. */
export const VARNISH_MODULES_PACKAGE = 'varnish-modules';
/** Debian's paths (package `varnish`). */
export const VARNISHD = '/usr/sbin/varnishd';
const VARNISHSTAT = '/usr/bin/varnishstat';
/** util-linux's `setpriv`, to give varnishd a parent-death signal (see `command`). */
const SETPRIV = '/usr/bin/setpriv';
/**
 * What `npm start -- --cdn` listens on: beside the Preprocessor's 8080. Not Varnish's own 6081:
 * installing Debian's package starts its system service there on machines with systemd.
 */
export const DEFAULT_CDN_PORT = 8081;

/** Objects kept in memory: a few thousand renders; the Preprocessor keeps its own 256 MiB behind. */
const DEFAULT_STORAGE_MB = 256;
/** Compiling the VCL (a C compiler run) takes a second or two; a cold machine, more. */
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;
/** Lines of varnishd's output kept to explain a failed start. */
const OUTPUT_LINES = 40;

export interface VarnishOptions {
  /** The origin: the Preprocessor. */
  backend: { host: string; port: number };
  host?: string;
  /** 0: any free port. */
  port?: number;
  /** varnishd's working directory (`-n`): shared memory log, compiled VCL. Created if absent. */
  workDir: string;
  storageMb?: number;
  /** Another VCL (default: `marquee.vcl` beside this module); its backend's .host and .port are rewritten. */
  vcl?: string;
  varnishd?: string;
  /**
   * The header the Preprocessor sends its cache tags in (its `MARQUEE_CACHE_TAG_HEADER`; default
   * `cache-tag`): the VCL copies it into xkey's header. Letters, digits and dashes (a VCL header name).
   */
  cacheTagHeader?: string;
  /** varnishd's `vmod_path` (default: its own, Debian's vmods directory). A seam for the missing-vmod test. */
  vmodPath?: string;
}

export interface LocalVarnish {
  /** `http://host:port`: what clients use; BAN and PURGE go to the same address (from localhost only). */
  url: string;
  port: number;
  workDir: string;
  /** Varnish's counters (`varnishstat -1 -j`), by name: `MAIN.cache_hit`, `MAIN.n_object`, … */
  counters(): Promise<Record<string, number>>;
  close(): Promise<void>;
}

/** The VCL shipped with the stack: beside this module in the sources, two levels up from `dist/cdn/`. */
export function defaultVcl(): string {
  const beside = fileURLToPath(new URL('./marquee.vcl', import.meta.url));
  return existsSync(beside) ? beside : fileURLToPath(new URL('../../cdn/marquee.vcl', import.meta.url));
}

/** The VCL with its one backend pointed at `backend`. */
export function withBackend(vcl: string, backend: { host: string; port: number }): string {
  const block = /backend\s+\w+\s*\{[^}]*\}/.exec(vcl);
  if (!block) throw new Error('the VCL declares no backend');
  const rewritten = block[0]
    .replace(/(\.host\s*=\s*)"[^"]*"/, `$1"${backend.host}"`)
    .replace(/(\.port\s*=\s*)"[^"]*"/, `$1"${backend.port}"`);
  return vcl.replace(block[0], rewritten);
}

/** The VCL reading the cache tags from `header` instead of `cache-tag`. */
export function withCacheTagHeader(vcl: string, header: string): string {
  if (!/^[A-Za-z0-9-]{1,64}$/.test(header))
    throw new ConfigError(`cache tag header ${JSON.stringify(header)}: Varnish's VCL takes letters, digits and dashes`);
  return vcl.replace(/beresp\.http\.cache-tag\b/g, `beresp.http.${header}`);
}

/** varnishd's VCL compiler could not load a vmod the VCL imports: its message names it. */
export function missingVmod(output: string): string | undefined {
  return /Could not (?:find|open|load) VMOD (\w+)/i.exec(output)?.[1];
}

async function freePort(host: string): Promise<number> {
  const server = createServer();
  server.listen(0, host);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * varnishd in the foreground (`-F`: its exit is ours to see), under `setpriv --pdeathsig` when
 * present so that it ends with this process even when this process is killed outright (a
 * SIGKILLed `npm start` must not leave a cache holding the port). As root, the default `unix`
 * jail would run the cache as Debian's `vcache` user, who cannot read a private (0700) data or
 * temporary directory; `-j none` is what varnishd uses anyway when not started as root.
 */
function command(
  options: Required<Pick<VarnishOptions, 'workDir' | 'storageMb' | 'varnishd'>> & Pick<VarnishOptions, 'vmodPath'>,
  listen: string,
  vcl: string,
) {
  const args = [
    '-F',
    '-n',
    options.workDir,
    '-a',
    listen,
    '-f',
    vcl,
    '-s',
    `malloc,${options.storageMb}m`,
    // The management CLI (varnishadm) on loopback only.
    '-T',
    '127.0.0.1:0',
    // Counters flushed after every request (Varnish batches ten by default): hits and misses read
    // through `counters()` are current, which tests and the load runner rely on. Free at this scale.
    '-p',
    'thread_stats_rate=1',
  ];
  if (options.vmodPath !== undefined) args.push('-p', `vmod_path=${options.vmodPath}`);
  if (process.getuid?.() === 0) args.push('-j', 'none');
  return existsSync(SETPRIV)
    ? { file: SETPRIV, args: ['--pdeathsig', 'TERM', '--', options.varnishd, ...args] }
    : { file: options.varnishd, args };
}

/** Whether Varnish (not some other server) answers at `url`: its synthetic 404 carries X-Varnish. */
function answers(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(`${url}/.marquee-cdn-probe`, { agent: false, timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.headers['x-varnish'] !== undefined);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

async function launch(options: VarnishOptions, host: string, port: number, vclFile: string): Promise<LocalVarnish> {
  const resolved = {
    workDir: options.workDir,
    storageMb: options.storageMb ?? DEFAULT_STORAGE_MB,
    varnishd: options.varnishd ?? VARNISHD,
    ...(options.vmodPath !== undefined ? { vmodPath: options.vmodPath } : {}),
  };
  // An IPv6 address is bracketed, in varnishd's -a as in a URL.
  const authority = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  const { file, args } = command(resolved, authority, vclFile);
  const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const keep = (chunk: Buffer) => {
    output.push(...chunk.toString().split('\n').filter(Boolean));
    output.splice(0, Math.max(0, output.length - OUTPUT_LINES));
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exited: string | undefined;
  child.once('exit', (code, signal) => (exited = String(code ?? signal)));
  const url = `http://${authority}`;

  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!(await answers(url))) {
    if (exited !== undefined) throw new VarnishStartError(`varnishd exited (${exited})`, output.join('\n'));
    if (Date.now() > deadline) {
      await stop(child);
      throw new VarnishStartError(`varnishd did not answer on ${url} within ${START_TIMEOUT_MS} ms`, output.join('\n'));
    }
    await new Promise((r) => setTimeout(r, 50));
  }

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    workDir: options.workDir,
    counters: () => counters(options.workDir),
    close: () => (closing ??= stop(child)),
  };
}

/** varnishd did not start: `output` is what it said (a VCL compile error, a port in use). */
export class VarnishStartError extends Error {
  override name = 'VarnishStartError';
  constructor(
    message: string,
    readonly output: string,
  ) {
    super(output ? `${message}:\n${output}` : message);
  }
}

/**
 * Varnish in front of `backend` with the Marquee VCL: spawned, waited for until it answers, and
 * stopped by `close()` (or with this process). Needs Debian's `varnish` and `varnish-modules`
 * packages (the VCL imports vmod xkey).
 */
export async function startVarnish(options: VarnishOptions): Promise<LocalVarnish> {
  const varnishd = options.varnishd ?? VARNISHD;
  if (!existsSync(varnishd)) {
    throw new ConfigError(
      `${varnishd} not found: the CDN (--cdn) is Debian's Varnish. Install it with: sudo apt-get install varnish`,
    );
  }
  const host = options.host ?? '127.0.0.1';
  await mkdir(options.workDir, { recursive: true });
  const vclFile = path.join(options.workDir, 'marquee.vcl');
  const vcl = withBackend(await readFile(options.vcl ?? defaultVcl(), 'utf8'), options.backend);
  await writeFile(vclFile, withCacheTagHeader(vcl, options.cacheTagHeader ?? DEFAULT_CACHE_TAG_HEADER));

  // A free port found here may be taken before varnishd binds it: try again with another.
  const attempts = options.port === undefined || options.port === 0 ? 3 : 1;
  for (let attempt = 1; ; attempt++) {
    const port = options.port || (await freePort(host));
    try {
      return await launch(options, host, port, vclFile);
    } catch (err) {
      const vmod = err instanceof VarnishStartError ? missingVmod(err.output) : undefined;
      if (vmod === 'xkey')
        throw new ConfigError(
          `varnishd found no vmod xkey: the CDN's VCL purges by cache tag with it. Install Debian's ` +
            `${VARNISH_MODULES_PACKAGE} package: sudo apt-get install ${VARNISH_MODULES_PACKAGE}`,
        );
      const portTaken =
        err instanceof VarnishStartError && /could not get socket|address already in use/i.test(err.output);
      if (!portTaken || attempt >= attempts) throw err;
    }
  }
}

const execFileAsync = promisify(execFile);

/** Every counter of the instance in `workDir`, by name (`MAIN.cache_hit`: 12). */
export async function counters(workDir: string): Promise<Record<string, number>> {
  const { stdout } = await execFileAsync(VARNISHSTAT, ['-n', workDir, '-1', '-j']);
  const parsed = JSON.parse(stdout) as { counters?: Record<string, { value: number }> } & Record<string, unknown>;
  // varnishstat 6.5+ nests them under `counters`; older releases put them at the top level.
  const entries = (parsed.counters ?? parsed) as Record<string, { value?: unknown }>;
  const out: Record<string, number> = {};
  for (const [name, counter] of Object.entries(entries)) {
    if (typeof counter === 'object' && counter !== null && typeof counter.value === 'number') out[name] = counter.value;
  }
  return out;
}
