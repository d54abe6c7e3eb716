import { METHODS } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { MarqueeError } from '@marquee/shared';

/** Methods a read-only image route answers. */
const READ_METHODS = ['GET', 'HEAD'];

/**
 * Lets routes see every method Node parses (TRACE, PROPFIND, PURGE …), so a read-only route
 * can answer them with 405 and `Allow` instead of the router's 404. CONNECT never reaches
 * Fastify: Node hands it to the server's `connect` event, which has no listener, so the
 * socket is closed.
 */
export function routeEveryMethod(app: FastifyInstance): void {
  for (const method of METHODS) {
    if (method === 'CONNECT' || app.supportedMethods.includes(method)) continue;
    app.addHttpMethod(method);
  }
}

/**
 * 405 with `Allow: GET, HEAD` for every other method on `url`, in `onRequest`: before any body
 * is parsed (the problem reply then closes the connection, lingering, rather than drain what
 * was sent: see `lingerAfterReply`).
 */
export function refuseOtherMethods(app: FastifyInstance, url: string, what: string): void {
  app.route({
    method: app.supportedMethods.filter((m) => !READ_METHODS.includes(m)),
    url,
    onRequest: async (request, reply) => {
      reply.header('allow', READ_METHODS.join(', '));
      throw new MarqueeError('METHOD_NOT_ALLOWED', `${request.method} is not allowed on ${what}; use GET or HEAD.`);
    },
    handler: async () => undefined,
  });
}
