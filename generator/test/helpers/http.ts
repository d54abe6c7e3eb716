import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TestServer {
  url: string;
  port: number;
  /** Requests the server has seen, by path. */
  requests: string[];
  /** TCP connections accepted: a refusal "before any connection" leaves this at 0. */
  readonly connections: number;
}

interface Teardown {
  teardown(fn: () => unknown): void;
}

/** A real HTTP server on `host`:0 (IPv4 or IPv6), closed (with its open connections) at teardown. */
export async function startHttp(
  t: Teardown,
  host: string,
  route: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<TestServer> {
  const requests: string[] = [];
  let connections = 0;
  const server = createServer((req, res) => {
    requests.push(req.url ?? '');
    route(req, res);
  });
  server.on('connection', () => connections++);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const authority = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  return {
    url: `http://${authority}`,
    port,
    requests,
    get connections() {
      return connections;
    },
  };
}
