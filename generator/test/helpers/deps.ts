import { Writable } from 'node:stream';
import type { GeneratorRequest, ImageSpec, Source } from '@marquee/shared';
import { pino } from 'pino';
import { createDeps, loadConfig, type ConfigOptions, type Deps, type DepsOverrides } from '../../src/index.js';
import type { LocalS3 } from './s3.js';

/** Log lines captured in memory, parsed. */
export function captureLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n'))
        if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

/** Deps for tests: config from options only (the test process's env is ignored). */
export function testDeps(s3: LocalS3 | undefined, options: ConfigOptions = {}, overrides: DepsOverrides = {}): Deps {
  const config = loadConfig({ s3Endpoint: s3?.endpoint, ...options }, {});
  return createDeps(config, {
    logger: pino({ level: 'silent' }),
    ...(s3 === undefined ? {} : { s3Client: async () => s3.client }),
    ...overrides,
  });
}

let n = 0;
export function makeRequest(
  source: Source,
  spec: Partial<ImageSpec> = {},
  extra: Partial<GeneratorRequest> = {},
): GeneratorRequest {
  return {
    v: 1,
    id: `test-${++n}`,
    source,
    spec: { width: 320, height: 180, fit: 'cover', format: 'webp', quality: 80, ...spec },
    ...extra,
  };
}

export const s3Source = (bucket: string, key: string): Source => ({ s3: { bucket, key } });
