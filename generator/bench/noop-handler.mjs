// The Invoke hop alone, for `npm run bench -w generator`: a handler that renders nothing and
// returns a result shaped like the Generator's, its body as many bytes as BENCH_NOOP_BYTES.
const bytes = Number(process.env.BENCH_NOOP_BYTES ?? 30000);
const body = Buffer.alloc(bytes, 7).toString('base64');
export const handler = async () => ({
  ok: true,
  contentType: 'image/webp',
  width: 480,
  height: 270,
  bytes,
  body,
  timings: { fetchMs: 0, renderMs: 0 },
  coldStart: false,
});
