// A stand-in for the Preprocessor with the same URL shape, headers and metrics, for testing the
// runner without the embedded stack: renders a flat image of the asked size (AVIF included),
// caches it, sheds when too many renders are in flight, and sends a MISS's Server-Timing. With
// `store`, it keeps each render as the Generator does: a PUT after the reply, counted beforehand.
import { createHash } from 'node:crypto';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import Fastify, { type FastifyInstance } from 'fastify';
import sharp from 'sharp';
import { REQUEST_EXTENSIONS, formatOfExtension } from '@marquee/shared';

export interface FakeOptions {
  /** Renders in flight past which requests are shed with 503 + Retry-After. */
  maxInFlight?: number;
  /** Milliseconds each render takes (on top of sharp's own time). */
  renderDelayMs?: number;
  /** Reply with a 500 for this many requests (to test error counting). */
  failFirst?: number;
  /**
   * Keep every render in this bucket, counted in `marquee_store_writes_total` when its reply is
   * sent and PUT `lateMs` after it; the first `lose` PUTs are never made (a PUT that failed).
   */
  store?: { client: S3Client; bucket: string; prefix: string; lateMs?: number; lose?: number };
}

const FILE = new RegExp(`^(\\d+)x(\\d+)\\.(${REQUEST_EXTENSIONS.join('|')})$`);

export async function startFake(
  o: FakeOptions = {},
): Promise<{ url: string; app: FastifyInstance; invocations: () => number; settled: () => Promise<void> }> {
  const app = Fastify({ logger: false });
  const cache = new Map<string, { body: Buffer; type: string }>();
  const counters = { hit: 0, miss: 0, coalesced: 0, invocations: 0, shed: 0, requests: 0, renderSeconds: 0 };
  const pending = new Map<string, Promise<{ body: Buffer; type: string }>>();
  let inFlight = 0;
  let failures = o.failFirst ?? 0;
  let kept = 0;
  let lose = o.store?.lose ?? 0;
  const puts = new Set<Promise<unknown>>();
  const keep = (key: string, body: Buffer, type: string) => {
    const store = o.store;
    if (!store) return;
    kept++;
    if (lose > 0) {
      lose--;
      return;
    }
    const name = `${store.prefix}${createHash('sha256').update(key).digest('hex')}.${type.slice('image/'.length)}`;
    const put = new Promise((resolve) => setTimeout(resolve, store.lateMs ?? 0))
      .then(() => store.client.send(new PutObjectCommand({ Bucket: store.bucket, Key: name, Body: body })))
      .catch(() => undefined)
      .finally(() => puts.delete(put));
    puts.add(put);
  };

  app.get<{ Params: { type: string; id: string; file: string } }>('/v1/artwork/:type/:id/:file', async (req, reply) => {
    counters.requests++;
    if (failures > 0) {
      failures--;
      return reply.code(500).send({ title: 'boom' });
    }
    const m = FILE.exec(req.params.file);
    if (!m) return reply.code(400).send({ title: 'bad size' });
    const [w, h, ext] = [Number(m[1]), Number(m[2]), m[3] as string];
    const accept = req.headers.accept ?? '';
    const format = ext === 'auto' ? (accept.includes('image/webp') ? 'webp' : 'jpeg') : formatOfExtension(ext);
    const key = `${req.url}|${format}`;
    const cached = cache.get(key);
    let result: 'hit' | 'miss' | 'coalesced' = 'hit';
    let image = cached;
    let renderMs = 0;
    if (!image) {
      const inflight = pending.get(key);
      if (inflight) {
        result = 'coalesced';
        image = await inflight;
      } else {
        if (inFlight >= (o.maxInFlight ?? 1000)) {
          counters.shed++;
          return reply.code(503).header('retry-after', '1').send({ title: 'busy' });
        }
        result = 'miss';
        inFlight++;
        counters.invocations++;
        const started = performance.now();
        const p = (async () => {
          if (o.renderDelayMs) await new Promise((r) => setTimeout(r, o.renderDelayMs));
          const flat = sharp({ create: { width: w, height: h, channels: 3, background: '#346' } });
          const body = await (
            format === 'avif' ? flat.avif({ effort: 0 }) : flat.toFormat(format as 'jpeg' | 'png' | 'webp')
          ).toBuffer();
          return { body, type: `image/${format}` };
        })().finally(() => {
          renderMs = performance.now() - started;
          counters.renderSeconds += renderMs / 1000;
          inFlight--;
          pending.delete(key);
        });
        pending.set(key, p);
        image = await p;
        cache.set(key, image);
        keep(key, image.body, image.type);
      }
    }
    counters[result]++;
    if (result === 'miss')
      reply.header(
        'server-timing',
        `queue;dur=0, invoke;dur=${renderMs.toFixed(1)}, fetch;dur=0.5, render;dur=${renderMs.toFixed(1)}`,
      );
    return reply.header('x-cache', result).header('content-type', image.type).send(image.body);
  });
  app.get('/healthz', async () => ({ ok: true }));
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', 'text/plain; version=0.0.4');
    return [
      '# HELP marquee_cache_requests_total cache lookups',
      '# TYPE marquee_cache_requests_total counter',
      `marquee_cache_requests_total{result="hit"} ${counters.hit}`,
      `marquee_cache_requests_total{result="miss"} ${counters.miss}`,
      `marquee_cache_requests_total{result="coalesced"} ${counters.coalesced}`,
      `marquee_http_requests_total{route="/v1/artwork/:type/:titleId/:file",status="200"} ${counters.requests}`,
      `marquee_generator_invocations_total{outcome="ok"} ${counters.invocations}`,
      `marquee_generator_duration_seconds_sum ${counters.renderSeconds}`,
      `marquee_generator_duration_seconds_count ${counters.invocations}`,
      `marquee_generator_in_flight ${inFlight}`,
      `marquee_shed_total{reason="queue"} ${counters.shed}`,
      `marquee_cache_bytes ${[...cache.values()].reduce((s, v) => s + v.body.length, 0)}`,
      `marquee_process_resident_memory_bytes ${process.memoryUsage().rss}`,
      `marquee_store_writes_total ${kept}`,
      '',
    ].join('\n');
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    app,
    invocations: () => counters.invocations,
    /** Every PUT begun has ended. */
    settled: async () => {
      await Promise.all([...puts]);
    },
  };
}
