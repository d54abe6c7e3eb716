// Peer servers for the bench, each in its own process like the Preprocessor: `ipx <dir>` serves
// files with ipx v3 (its own sharp); `ipx-cdn <dir> <work dir>` is ipx with the stack's Varnish
// in front of it (a child of this process, so that the arm's CPU counts both); `bare <file>
// <content-type>` is a bare Fastify route replying with the same bytes and headers as a Marquee
// cache hit.
import { createServer } from 'node:http';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

/**
 * ipx behind Varnish as a user would deploy it: the URL is the key (ipx's URLs name the format,
 * so Accept plays no part, as Marquee's VCL drops it for an explicit extension), ipx's
 * Cache-Control decides the TTL, errors are not kept, nothing is served stale. What the
 * Marquee VCL (infra/local/cdn/marquee.vcl) does for an artwork URL, without its key rewriting.
 */
const IPX_VCL = `vcl 4.1;

backend ipx {
    .host = "127.0.0.1";
    .port = "80";
    .connect_timeout = 5s;
    .first_byte_timeout = 40s;
    .between_bytes_timeout = 40s;
}

sub vcl_recv {
    if (req.method != "GET" && req.method != "HEAD") {
        return (synth(405, "Method Not Allowed"));
    }
    unset req.http.Cookie;
    unset req.http.Authorization;
    unset req.http.Accept-Encoding;
    unset req.http.Accept;
    return (hash);
}

sub vcl_hash {
    hash_data(req.url);
    return (lookup);
}

sub vcl_backend_response {
    if (beresp.status >= 400) {
        set beresp.ttl = 0s;
    }
    set beresp.grace = 0s;
}

sub vcl_deliver {
    if (obj.hits > 0) {
        set resp.http.X-CDN = "HIT";
    } else {
        set resp.http.X-CDN = "MISS";
    }
}
`;

/** ipx's Cache-Control max-age behind the cache (its default, 60 s, would expire objects within a long arm). */
const IPX_CDN_MAX_AGE_S = 86_400;

async function startIpx(dir: string, maxAge?: number): Promise<number> {
  const { createIPX, ipxFSStorage, createIPXNodeServer } = await import('ipx');
  const ipx = createIPX({ storage: ipxFSStorage({ dir }), ...(maxAge !== undefined ? { maxAge } : {}) });
  const server = createServer(createIPXNodeServer(ipx));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

async function startBare(file: string, contentType: string): Promise<number> {
  const { default: Fastify } = await import('fastify');
  const body = await readFile(file);
  const app = Fastify({ logger: false });
  app.get('/v1/artwork/:type/:titleId/:file', async (_req, reply) =>
    reply
      .header('content-type', contentType)
      .header('cache-control', 'public, max-age=3600, s-maxage=86400')
      .header('etag', '"bench"')
      .header('x-cache', 'hit')
      .send(body),
  );
  await app.listen({ host: '127.0.0.1', port: 0 });
  return (app.server.address() as AddressInfo).port;
}

interface VarnishModule {
  startVarnish: (options: {
    backend: { host: string; port: number };
    workDir: string;
    vcl?: string;
  }) => Promise<{ url: string; close: () => Promise<void> }>;
}

/**
 * `@marquee/local`'s Varnish launcher, the one the stack's CDN tier uses. Its module alone: the
 * package's entry point would load the whole stack, and with it a second sharp (and libvips)
 * beside ipx's.
 */
async function startVarnishFor(port: number, workDir: string): Promise<string> {
  const file = new URL('./cdn/varnish.js', import.meta.resolve('@marquee/local')).href;
  const { startVarnish } = (await import(file)) as VarnishModule;
  await mkdir(workDir, { recursive: true });
  const vcl = path.join(workDir, 'ipx-input.vcl');
  await writeFile(vcl, IPX_VCL);
  const varnish = await startVarnish({ backend: { host: '127.0.0.1', port }, workDir, vcl });
  process.on('SIGTERM', () => {
    void varnish.close().finally(() => process.exit(0));
  });
  return varnish.url;
}

async function main(): Promise<void> {
  const [kind, a, b] = process.argv.slice(2);
  const port =
    kind === 'ipx' && a
      ? await startIpx(a)
      : kind === 'ipx-cdn' && a && b
        ? await startIpx(a, IPX_CDN_MAX_AGE_S)
        : kind === 'bare' && a && b
          ? await startBare(a, b)
          : undefined;
  if (port === undefined)
    throw new Error('usage: servers-child ipx <dir> | ipx-cdn <dir> <work dir> | bare <file> <content-type>');
  const origin = `http://127.0.0.1:${port}`;
  const url = kind === 'ipx-cdn' && b ? await startVarnishFor(port, b) : origin;
  process.send?.({ type: 'ready', url, origin });
  process.on('disconnect', () => process.exit(0));
}

main().catch((err: unknown) => {
  process.send?.({ type: 'error', message: String(err) });
  process.exit(1);
});
