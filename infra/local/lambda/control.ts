import { LATEST, LambdaApiError, type LocalFunction } from './versions.js';

/**
 * Lambda's control plane for versions and aliases, on the REST paths `@aws-sdk/client-lambda`
 * calls (its restJson1 operations): GetFunction, GetFunctionConfiguration, UpdateFunctionCode,
 * PublishVersion, ListVersionsByFunction, CreateAlias, GetAlias, UpdateAlias, DeleteAlias,
 * ListAliases.
 */

const FUNCTION = /^\/2015-03-31\/functions\/([^/]+)(\/configuration|\/versions|\/code|\/aliases(?:\/([^/]+))?)?\/?$/;

export interface ControlRequest {
  method: string;
  url: URL;
  /** The JSON body, for the operations that take one. */
  body: () => Promise<unknown>;
}

export interface ControlReply {
  status: number;
  body?: Record<string, unknown>;
}

export interface FunctionRef {
  name: string;
  qualifier: string | undefined;
}

/** Whether a path is one of the control plane's. */
export function isControlPath(pathname: string): boolean {
  return FUNCTION.test(pathname);
}

/** Most items a list answers in one page, as Lambda's `MaxItems` allows. */
const MAX_ITEMS = 10_000;

function page<T>(items: T[], url: URL): { items: T[]; next?: string } {
  const start = Number(url.searchParams.get('Marker') ?? '0') || 0;
  const max = Math.min(Number(url.searchParams.get('MaxItems') ?? MAX_ITEMS) || MAX_ITEMS, MAX_ITEMS);
  const items_ = items.slice(start, start + max);
  return start + max < items.length ? { items: items_, next: String(start + max) } : { items: items_ };
}

function record(value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new LambdaApiError('InvalidRequestContentException', 400, 'Could not parse request body into json');
  return value as Record<string, unknown>;
}

function optionalString(body: Record<string, unknown>, key: string): string | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string')
    throw new LambdaApiError('InvalidParameterValueException', 400, `${key} must be a string`);
  return value;
}

/** `RoutingConfig.AdditionalVersionWeights`: undefined when no routing was given. */
function weights(body: Record<string, unknown>): Record<string, number> | undefined {
  const routing = body.RoutingConfig;
  if (routing === undefined || routing === null) return undefined;
  const map = record(routing).AdditionalVersionWeights ?? {};
  const out: Record<string, number> = {};
  for (const [version, weight] of Object.entries(record(map))) {
    if (typeof weight !== 'number')
      throw new LambdaApiError('InvalidParameterValueException', 400, `Weight of version ${version} must be a number`);
    out[version] = weight;
  }
  return out;
}

/**
 * Answers one control-plane request, or throws a `LambdaApiError`; `find` looks a function up
 * by the name in the path (any of Lambda's spellings).
 */
export async function control(
  req: ControlRequest,
  find: (raw: string) => { fn: LocalFunction; ref: FunctionRef },
): Promise<ControlReply> {
  const match = FUNCTION.exec(req.url.pathname);
  if (match === null) throw new LambdaApiError('UnknownOperationException', 404, 'Unknown operation');
  const { fn, ref } = find(decodeURIComponent(match[1] ?? ''));
  const sub = match[2] ?? '';
  const aliasName = match[3] === undefined ? undefined : decodeURIComponent(match[3]);
  const qualifier = req.url.searchParams.get('Qualifier') ?? ref.qualifier;
  const route = `${req.method} ${sub.startsWith('/aliases/') ? '/aliases/{Name}' : sub}`;
  switch (route) {
    case 'GET ': {
      const version = fn.named(qualifier);
      const configuration = fn.configuration(version, qualifier);
      return {
        status: 200,
        body: {
          Configuration: configuration,
          Code: { RepositoryType: 'S3', Location: `file://${version.code.dir}` },
        },
      };
    }
    case 'GET /configuration':
      return { status: 200, body: fn.configuration(fn.named(qualifier), qualifier) };
    case 'PUT /code': {
      const body = record(await req.body());
      const zip = optionalString(body, 'ZipFile');
      if (zip === undefined)
        throw new LambdaApiError('InvalidParameterValueException', 400, 'Please provide a source for function code.');
      const revisionId = optionalString(body, 'RevisionId');
      if (body.DryRun === true) return { status: 200, body: fn.configuration(fn.latest) };
      const latest = await fn.updateCode(Buffer.from(zip, 'base64'), revisionId);
      if (body.Publish === true) return { status: 200, body: fn.configuration(await fn.publish({})) };
      return { status: 200, body: fn.configuration(latest) };
    }
    case 'POST /versions': {
      const body = record(await req.body());
      const published = await fn.publish({
        codeSha256: optionalString(body, 'CodeSha256'),
        description: optionalString(body, 'Description'),
        revisionId: optionalString(body, 'RevisionId'),
      });
      return { status: 201, body: fn.configuration(published) };
    }
    case 'GET /versions': {
      const all = [fn.latest, ...fn.versions.values()].map((v) =>
        fn.configuration(v, v.version === LATEST ? LATEST : undefined),
      );
      const { items, next } = page(all, req.url);
      return { status: 200, body: { Versions: items, ...(next ? { NextMarker: next } : {}) } };
    }
    case 'POST /aliases': {
      const body = record(await req.body());
      const name = optionalString(body, 'Name');
      const functionVersion = optionalString(body, 'FunctionVersion');
      if (name === undefined || functionVersion === undefined)
        throw new LambdaApiError('InvalidParameterValueException', 400, 'Name and FunctionVersion are required');
      const alias = fn.createAlias({
        name,
        functionVersion,
        description: optionalString(body, 'Description'),
        weights: weights(body),
      });
      return { status: 201, body: fn.aliasConfiguration(alias) };
    }
    case 'GET /aliases': {
      const wanted = req.url.searchParams.get('FunctionVersion');
      const all = [...fn.aliases.values()]
        .filter((a) => wanted === null || a.functionVersion === wanted)
        .map((a) => fn.aliasConfiguration(a));
      const { items, next } = page(all, req.url);
      return { status: 200, body: { Aliases: items, ...(next ? { NextMarker: next } : {}) } };
    }
    case 'GET /aliases/{Name}':
      return { status: 200, body: fn.aliasConfiguration(fn.alias(aliasName ?? '')) };
    case 'PUT /aliases/{Name}': {
      const body = record(await req.body());
      const alias = fn.updateAlias(aliasName ?? '', {
        functionVersion: optionalString(body, 'FunctionVersion'),
        description: optionalString(body, 'Description'),
        weights: weights(body),
        revisionId: optionalString(body, 'RevisionId'),
      });
      return { status: 200, body: fn.aliasConfiguration(alias) };
    }
    case 'DELETE /aliases/{Name}':
      fn.deleteAlias(aliasName ?? '');
      return { status: 204 };
    default:
      throw new LambdaApiError('UnknownOperationException', 404, `Unknown operation ${req.method} ${req.url.pathname}`);
  }
}
