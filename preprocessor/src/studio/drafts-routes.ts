import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { stringify } from 'yaml';
import {
  CreateDraftSchema,
  DraftIdSchema,
  DraftListSchema,
  DraftRevSchema,
  DraftSchema,
  ImpactSchema,
  SaveDraftSchema,
  ValidateRulesReplySchema,
  ValidateRulesSchema,
  type Draft,
} from '@marquee/shared';
import { openDocument } from '../rules/source.js';
import type { SavedDrafts, SavedDraft } from './drafts.js';
import { measuredMsPerImage, type ImpactReports } from './impact.js';
import { checkRulesText } from './rules-text.js';

const Params = Type.Object({ id: DraftIdSchema });
const ImpactQuery = Type.Object({ rev: Type.Optional(DraftRevSchema) });

export interface DraftRoutesOptions {
  drafts: SavedDrafts;
  impacts: ImpactReports;
}

/** The draft as the page gets it, with whether the rules it was opened from are still in force. */
export function draftReply(app: FastifyInstance, draft: SavedDraft): Draft {
  return {
    id: draft.id,
    yaml: draft.yaml,
    rev: draft.rev,
    savedAt: draft.savedAt.toISOString(),
    base: draft.base,
    baseInForce: draft.base === app.rulesPoller.current().rulesEtag,
    link: `/studio?draft=${draft.id}`,
  };
}

/**
 * The text of the rules in force, comments and all: the document itself when it is still the
 * version in force (its ETag says so); else (changed since, or unreadable now) the parsed rules
 * in force written out as YAML, which loads to the same rules.
 */
async function rulesInForce(app: FastifyInstance): Promise<{ yaml: string; etag: string }> {
  const state = app.rulesPoller.current();
  try {
    const snapshot = await openDocument(app.config.rules, app.s3).fetch();
    if (snapshot !== 'unchanged' && snapshot.etag === state.rulesEtag)
      return { yaml: snapshot.text, etag: state.rulesEtag };
  } catch (err) {
    app.log.info({ err, document: app.config.rules }, 'rules document unreadable: drafting from the rules in force');
  }
  const yaml =
    '# The rules in force, written out from what the Preprocessor loaded (the document has changed or\n' +
    '# could not be read, so its comments are not here).\n' +
    stringify(state.rules);
  return { yaml, etag: state.rulesEtag };
}

/**
 * `/studio/api/drafts`: open the rules in force as a draft, save, load, list, validate as one
 * types, and the impact of a draft over the catalog in force. Nothing here changes what the
 * artwork route serves: drafts live under `drafts/` in the sources bucket, which no rules
 * location reads.
 */
export const draftRoutes: FastifyPluginAsyncTypebox<DraftRoutesOptions> = async (app, { drafts, impacts }) => {
  app.get('/studio/api/drafts', { schema: { response: { 200: DraftListSchema } } }, async () => ({
    drafts: await drafts.list(),
  }));

  app.post(
    '/studio/api/drafts',
    { schema: { body: CreateDraftSchema, response: { 201: DraftSchema } } },
    async (request, reply) => {
      const inForce = await rulesInForce(app);
      const draft = await drafts.save(request.body.yaml ?? inForce.yaml, inForce.etag);
      request.log.info({ draft: draft.id, rev: draft.rev }, 'studio draft opened');
      return reply.code(201).send(draftReply(app, draft));
    },
  );

  // Checked as the page's editor changes, before anything is saved: the loader's own verdict.
  app.post(
    '/studio/api/drafts/validate',
    { schema: { body: ValidateRulesSchema, response: { 200: ValidateRulesReplySchema } } },
    async (request) => {
      const checked = checkRulesText(request.body.yaml, 'draft');
      return checked.ok ? { ok: true } : { ok: false, problem: checked.problem };
    },
  );

  app.get('/studio/api/drafts/:id', { schema: { params: Params, response: { 200: DraftSchema } } }, async (request) =>
    draftReply(app, await drafts.load(request.params.id)),
  );

  app.put(
    '/studio/api/drafts/:id',
    { schema: { params: Params, body: SaveDraftSchema, response: { 200: DraftSchema } } },
    async (request) => {
      // The draft must exist (404 otherwise); it keeps the rules version it was opened from.
      const { base } = await drafts.load(request.params.id);
      const draft = await drafts.save(request.body.yaml, base, request.params.id);
      request.log.info({ draft: draft.id, rev: draft.rev }, 'studio draft saved');
      return draftReply(app, draft);
    },
  );

  app.get(
    '/studio/api/drafts/:id/impact',
    { schema: { params: Params, querystring: ImpactQuery, response: { 200: ImpactSchema } } },
    async (request) => {
      const { id } = request.params;
      const { rev } = request.query;
      const draft = rev === undefined ? await drafts.load(id) : await drafts.at(id, rev);
      const msPerImage = await measuredMsPerImage(app.metrics.generatorDuration);
      const costs = msPerImage === undefined ? {} : { msPerImage };
      return impacts.report(app.rulesPoller.current(), draft, app.config.sourcesBucket, costs);
    },
  );
};
