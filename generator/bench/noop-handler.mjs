// The Invoke hop alone, for `npm run bench -w generator`: a streaming handler that renders nothing
// and streams a reply shaped like the Generator's (Lambda's HTTP prelude, then raw bytes), its
// body as many bytes as BENCH_NOOP_BYTES. Loaded by the local Lambda, which provides `awslambda`.
/* global awslambda */
const bytes = Number(process.env.BENCH_NOOP_BYTES ?? 30000);
const body = Buffer.alloc(bytes, 7);
const prelude = {
  statusCode: 200,
  headers: {
    'content-type': 'image/webp',
    'content-length': String(bytes),
    'x-marquee-width': '480',
    'x-marquee-height': '270',
    'x-marquee-fetch-ms': '0',
    'x-marquee-render-ms': '0',
    'x-marquee-cold-start': 'false',
  },
};
export const handler = awslambda.streamifyResponse(
  (_event, stream) =>
    new Promise((resolve, reject) => {
      const out = awslambda.HttpResponseStream.from(stream, prelude);
      out.once('error', reject);
      out.end(body, () => resolve());
    }),
);
