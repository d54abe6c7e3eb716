// Peer servers for the bench, each in its own process like the Preprocessor: `ipx <dir>` serves
// files with ipx v3 (its own sharp); `bare <file> <content-type>` is a bare Fastify route
// replying with the same bytes and headers as a Marquee cache hit.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';

async function startIpx(dir: string): Promise<number> {
  const { createIPX, ipxFSStorage, createIPXNodeServer } = await import('ipx');
  const ipx = createIPX({ storage: ipxFSStorage({ dir }) });
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

async function main(): Promise<void> {
  const [kind, a, b] = process.argv.slice(2);
  const port = kind === 'ipx' && a ? await startIpx(a) : kind === 'bare' && a && b ? await startBare(a, b) : undefined;
  if (port === undefined) throw new Error('usage: servers-child ipx <dir> | bare <file> <content-type>');
  process.send?.({ type: 'ready', url: `http://127.0.0.1:${port}` });
  process.on('disconnect', () => process.exit(0));
}

main().catch((err: unknown) => {
  process.send?.({ type: 'error', message: String(err) });
  process.exit(1);
});
