import fp from 'fastify-plugin';
import cookie from '@fastify/cookie';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { MarqueeError, StudioCatalogSchema } from '@marquee/shared';
import { ASSET_TYPES, assetLoader, type AssetName } from './assets.js';
import { studioCatalog } from './catalog.js';
import { MAX_FORM_BYTES, SESSION_TTL_SECONDS } from './limits.js';
import { SavedDrafts } from './drafts.js';
import { draftRoutes } from './drafts-routes.js';
import { ImpactReports } from './impact.js';
import { APP_CSP, FAVICON_SVG, PROMPT_CSP, appPage, promptPage } from './pages.js';
import { previewRoutes } from './previews.js';
import { publishRoutes } from './publish-routes.js';
import { previewRenderRoutes } from './render-routes.js';
import {
  clearSessionCookie,
  isAuthenticated,
  mintSession,
  secretEquals,
  sessionKey,
  setSessionCookie,
} from './session.js';
import { signRoutes } from './sign.js';
import { uploadRoutes } from './upload.js';

/** Every studio reply: pages, API, and the signed tiles of current and draft rules. */
export const STUDIO_CACHE_CONTROL = 'private, no-store';

const SessionBody = Type.Object({ token: Type.String({ minLength: 1, maxLength: 512 }) });
const AssetParams = Type.Object({ name: Type.Union([Type.Literal('app.js'), Type.Literal('app.css')]) });

/** The key that signs and checks session cookies (see `sessionKey`). */
interface SessionOptions {
  key: Buffer;
}

interface AuthenticatedOptions extends SessionOptions {
  drafts: SavedDrafts;
  impacts: ImpactReports;
}

/** The studio's own routes, each behind the session check. */
const authenticatedRoutes: FastifyPluginAsyncTypebox<AuthenticatedOptions> = async (app, { key, drafts, impacts }) => {
  app.addHook('onRequest', async (request, reply) => {
    if (isAuthenticated(request, key, app.config.studioToken)) return;
    reply.header('www-authenticate', 'Bearer realm="marquee-studio"');
    throw new MarqueeError('UNAUTHORIZED', 'Sign in to the studio (session cookie or bearer token).');
  });

  const assets = assetLoader();
  app.get('/studio/assets/:name', { schema: { params: AssetParams } }, async (request, reply) => {
    const name: AssetName = request.params.name;
    const body = (await assets())[name];
    return reply.type(ASSET_TYPES[name]).header('x-content-type-options', 'nosniff').send(body);
  });

  app.get('/studio/api/catalog', { schema: { response: { 200: StudioCatalogSchema } } }, async () => {
    const { rules, catalog } = app.rulesPoller.current();
    return studioCatalog(rules, catalog);
  });

  await app.register(signRoutes);
  await app.register(uploadRoutes);
  await app.register(draftRoutes, { drafts, impacts });
  await app.register(previewRoutes, { drafts });
  await app.register(publishRoutes, { drafts });
};

/** The page, sign-in and sign-out: open to anyone, the session check is theirs to make. */
const sessionRoutes: FastifyPluginAsyncTypebox<SessionOptions> = async (app, { key }) => {
  app.get('/studio', async (request, reply) => {
    if (!isAuthenticated(request, key, app.config.studioToken)) {
      return reply
        .code(401)
        .header('content-security-policy', PROMPT_CSP)
        .type('text/html; charset=utf-8')
        .send(promptPage());
    }
    return reply.header('content-security-policy', APP_CSP).type('text/html; charset=utf-8').send(appPage());
  });

  // The tab's icon, on the sign-in page too.
  app.get('/studio/favicon.svg', async (_request, reply) =>
    reply.type('image/svg+xml').header('x-content-type-options', 'nosniff').send(FAVICON_SVG),
  );

  app.post('/studio/session', { schema: { body: SessionBody } }, async (request, reply) => {
    const fromForm = request.headers['content-type']?.startsWith('application/x-www-form-urlencoded') === true;
    if (!secretEquals(request.body.token, app.config.studioToken)) {
      request.log.info({ code: 'UNAUTHORIZED' }, 'studio sign-in refused');
      if (!fromForm) throw new MarqueeError('UNAUTHORIZED', 'That studio token is not valid.');
      return reply
        .code(401)
        .header('content-security-policy', PROMPT_CSP)
        .type('text/html; charset=utf-8')
        .send(promptPage('wrong-token'));
    }
    const session = mintSession(key);
    setSessionCookie(request, reply, session.value, SESSION_TTL_SECONDS);
    if (fromForm) return reply.code(303).header('location', '/studio').send();
    return reply.code(200).send({ expiresAt: new Date(session.exp * 1000).toISOString() });
  });

  app.delete('/studio/session', async (request, reply) => {
    clearSessionCookie(request, reply);
    return reply.code(204).send();
  });
};

/**
 * The studio: `GET /studio` (sign-in page, then the app), `POST|DELETE /studio/session`,
 * the authenticated `/studio/assets/*` and `/studio/api/*`, and the signed tiles
 * (`/studio/render`, `/studio/diff`). Encapsulated: its cookie and body parsers and multipart
 * support apply to its own routes only.
 */
export const studioPlugin = fp(
  async (app) => {
    const key = sessionKey(app.config.signingKey, app.config.studioToken);
    const drafts = new SavedDrafts(app.s3, app.config.sourcesBucket);
    const impacts = new ImpactReports();
    app.addHook('onClose', () => impacts.close());
    // Studio replies are per person and change with every edit, and a draft's look is nobody's
    // to keep: no cache, shared or private, keeps them.
    app.addHook('onSend', async (_request, reply, payload) => {
      reply.header('cache-control', STUDIO_CACHE_CONTROL);
      return payload;
    });
    // Parsing only, and only here: artwork requests never pay for a Cookie header. The session
    // value carries its own MAC (see session.ts), so no cookie secret is configured.
    await app.register(cookie);
    // The sign-in form posts urlencoded; only the studio parses it, and only a few bytes of it.
    app.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: MAX_FORM_BYTES },
      (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(String(body)))),
    );
    await app.register(sessionRoutes, { key });
    await app.register(previewRenderRoutes, { drafts });
    await app.register(authenticatedRoutes, { key, drafts, impacts });
  },
  {
    fastify: '5.x',
    name: 'marquee-studio',
    encapsulate: true,
    dependencies: ['marquee-problem', 'marquee-rules', 'marquee-s3'],
  },
);
