import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import type { Agent as HttpAgent, IncomingMessage } from 'node:http';
import type { S3Ref } from '@marquee/shared';
import { SignatureV4 } from '@smithy/signature-v4';
import type { GeneratorConfig } from '../config.js';
import type { S3GetObject, S3ObjectReply } from './s3.js';

/**
 * A GetObject without the AWS SDK: one SigV4-signed GET over node:http(s), signed by the SDK's
 * own signer (`@smithy/signature-v4`, a few KiB), with the credentials Lambda puts in the
 * environment. The full `@aws-sdk/client-s3` takes longer to load and set up than the
 * request itself takes on a cold start; this path answers the first request without it.
 * It replies and fails like the SDK's GetObject as `fetchS3` reads it: `status`/`ETag`/
 * `ContentLength`/`Body`, errors carrying `name` (S3's error code) and
 * `$metadata.httpStatusCode`, one retry on a network error or a 5xx (the SDK's maxAttempts 2).
 */

type SourceData = string | ArrayBuffer | ArrayBufferView;
const bytes = (d: SourceData): string | Uint8Array =>
  typeof d === 'string'
    ? d
    : ArrayBuffer.isView(d)
      ? new Uint8Array(d.buffer, d.byteOffset, d.byteLength)
      : new Uint8Array(d);

/** node:crypto behind the SDK's Checksum interface (what `@smithy/hash-node` does). */
class Sha256 {
  private readonly h: Hash | Hmac;
  constructor(secret?: SourceData) {
    this.h = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: SourceData): void {
    this.h.update(bytes(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(this.h.digest());
  }
}

export interface EnvCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** The credentials Lambda sets for the function's role (the SDK's `fromEnv`). */
export function envCredentials(env: NodeJS.ProcessEnv): EnvCredentials | undefined {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) return undefined;
  return { accessKeyId, secretAccessKey, ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}) };
}

/**
 * Settings the SDK would honour and this path does not: with any of them, or without env
 * credentials, the SDK client does the work (same behaviour, slower first request).
 */
function sdkOnly(env: NodeJS.ProcessEnv): boolean {
  const on = (v: string | undefined) => v !== undefined && v.toLowerCase() === 'true';
  return (
    env.AWS_ENDPOINT_URL !== undefined ||
    env.AWS_ENDPOINT_URL_S3 !== undefined ||
    on(env.AWS_USE_FIPS_ENDPOINT) ||
    on(env.AWS_USE_DUALSTACK_ENDPOINT) ||
    on(env.AWS_S3_USE_ARN_REGION)
  );
}

/** S3's key escaping (the SDK's extendedEncodeURIComponent, `/` kept). */
const escapeKey = (key: string) =>
  key
    .split('/')
    .map((s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`))
    .join('/');

/** A bucket name a virtual host can carry under TLS (no dots, DNS-compatible). */
const virtualHostable = (bucket: string) => /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/.test(bucket);

interface Target {
  protocol: 'http:' | 'https:';
  hostname: string;
  port: number | undefined;
  path: string;
}

function target(ref: S3Ref, endpoint: URL | undefined, region: string): Target {
  const key = escapeKey(ref.key);
  if (endpoint !== undefined) {
    // A custom endpoint (s3rver locally) is addressed path-style, as the SDK client is configured.
    const base = endpoint.pathname.replace(/\/+$/, '');
    return {
      protocol: endpoint.protocol as Target['protocol'],
      hostname: endpoint.hostname,
      port: endpoint.port === '' ? undefined : Number(endpoint.port),
      path: `${base}/${ref.bucket}/${key}`,
    };
  }
  const host = `s3.${region}.amazonaws.com`;
  return virtualHostable(ref.bucket)
    ? { protocol: 'https:', hostname: `${ref.bucket}.${host}`, port: undefined, path: `/${key}` }
    : { protocol: 'https:', hostname: host, port: undefined, path: `/${ref.bucket}/${key}` };
}

/** An error shaped as the SDK's service errors are, for `fetchS3` to classify. */
class S3ReplyError extends Error {
  readonly $metadata: { httpStatusCode: number };
  constructor(name: string, status: number, message: string) {
    super(message);
    this.name = name;
    this.$metadata = { httpStatusCode: status };
  }
}

const header = (res: IncomingMessage, name: string): string | undefined => {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

/** S3's XML error body, read up to a small cap: its `<Code>` names the error. */
async function errorOf(res: IncomingMessage): Promise<S3ReplyError> {
  const status = res.statusCode ?? 0;
  let text = '';
  try {
    for await (const chunk of res as AsyncIterable<Buffer>) {
      text += chunk.toString('utf8');
      if (text.length > 16_384) break;
    }
  } catch {
    // The status says enough.
  }
  res.destroy();
  const code = /<Code>([^<]{1,100})<\/Code>/.exec(text)?.[1];
  const name = code ?? (status === 304 ? 'NotModified' : status === 404 ? 'NotFound' : `Http${status}`);
  const message = /<Message>([^<]{1,500})<\/Message>/.exec(text)?.[1] ?? `S3 answered ${status}`;
  return new S3ReplyError(name, status, message);
}

/** Worth one more try: the connection failed or S3 had a transient failure. */
const retryable = (err: unknown) =>
  err instanceof S3ReplyError ? err.$metadata.httpStatusCode >= 500 || err.$metadata.httpStatusCode === 429 : true;

/**
 * The lean GetObject for this environment, or undefined when only the SDK can do it
 * (no env credentials, an endpoint or addressing setting this path does not implement,
 * a China partition region).
 */
/**
 * SigV4 for S3 with the SDK's own signer: the path signed as sent (escaped once, unlike other
 * services), and `x-amz-content-sha256` added for the empty payload (`applyChecksum`, default).
 * A test signs AWS's documented GET Object example and gets its published signature.
 */
export function s3Signer(
  credentials: ConstructorParameters<typeof SignatureV4>[0]['credentials'],
  region: string,
): SignatureV4 {
  return new SignatureV4({ credentials, region, service: 's3', sha256: Sha256, uriEscapePath: false });
}

export function leanS3GetObject(config: GeneratorConfig, env: NodeJS.ProcessEnv): S3GetObject | undefined {
  const credentials = envCredentials(env);
  if (credentials === undefined || sdkOnly(env) || config.region.startsWith('cn-')) return undefined;
  const endpoint = config.s3Endpoint === undefined ? undefined : new URL(config.s3Endpoint);
  if (endpoint !== undefined && endpoint.protocol !== 'http:' && endpoint.protocol !== 'https:') return undefined;
  const signer = s3Signer(credentials, config.region);
  let agent: Promise<{ agent: HttpAgent; request: typeof import('node:http').request }> | undefined;
  const transport = (protocol: Target['protocol']) =>
    (agent ??= (protocol === 'https:' ? import('node:https') : import('node:http')).then((m) => ({
      // Kept alive as the SDK's handler does: a warm environment reuses its connection.
      agent: new m.Agent({ keepAlive: true, maxSockets: 50 }),
      request: m.request,
    })));

  async function attempt(ref: S3Ref, ifNoneMatch: string | undefined, signal: AbortSignal): Promise<S3ObjectReply> {
    const t = target(ref, endpoint, config.region);
    const host = t.port === undefined ? t.hostname : `${t.hostname}:${t.port}`;
    const signed = await signer.sign({
      method: 'GET',
      protocol: t.protocol,
      hostname: t.hostname,
      port: t.port,
      path: t.path,
      query: ref.versionId === undefined ? {} : { versionId: ref.versionId },
      headers: { host, ...(ifNoneMatch === undefined ? {} : { 'if-none-match': ifNoneMatch }) },
    });
    const query = ref.versionId === undefined ? '' : `?versionId=${encodeURIComponent(ref.versionId)}`;
    const { agent: a, request } = await transport(t.protocol);
    signal.throwIfAborted();
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = request(
        {
          method: 'GET',
          protocol: t.protocol,
          hostname: t.hostname,
          port: t.port,
          path: `${t.path}${query}`,
          headers: signed.headers,
          agent: a,
          signal,
        },
        resolve,
      );
      req.once('error', reject);
      req.end();
    });
    const status = res.statusCode ?? 0;
    if (status !== 200) throw await errorOf(res);
    const length = header(res, 'content-length');
    return { ETag: header(res, 'etag'), ContentLength: length === undefined ? undefined : Number(length), Body: res };
  }

  return async (ref, ifNoneMatch, signal) => {
    try {
      return await attempt(ref, ifNoneMatch, signal);
    } catch (err) {
      if (signal.aborted || !retryable(err)) throw err;
      return attempt(ref, ifNoneMatch, signal);
    }
  };
}
