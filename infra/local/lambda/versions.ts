import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { GENERATOR_RUNTIME } from '@marquee/shared';
import { CodeError, CodeStore, handlerModule, type FunctionCode } from './code.js';
import { FunctionPool, SharedConcurrency, zeroCounts, type LambdaCounters } from './pool.js';
import type { ResolvedFunction } from './options.js';

/**
 * One function's versions and aliases, as Lambda keeps them: `$LATEST` (the code as it is now,
 * changed by `UpdateFunctionCode`), versions 1, 2, … (frozen by `PublishVersion`), and aliases
 * pointing at a version, optionally with a second version weighted in
 * (`RoutingConfig.AdditionalVersionWeights`). Each version runs in its own pool of environments
 * (its own code, its own `AWS_LAMBDA_FUNCTION_VERSION`); the pools share the function's
 * concurrency, as Lambda counts it per function.
 */

export const LATEST = '$LATEST';

export interface FunctionVersion {
  version: string;
  fn: ResolvedFunction;
  code: FunctionCode;
  pool: FunctionPool;
  description: string;
  revisionId: string;
  lastModified: string;
}

export interface Alias {
  name: string;
  functionVersion: string;
  description: string;
  /** The additional version → its share of invocations (0..1); empty without routing. */
  weights: Record<string, number>;
  revisionId: string;
}

/** A refusal in Lambda's words: the exception type, its HTTP status, its message. */
export class LambdaApiError extends Error {
  constructor(
    readonly type: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Lambda's alias-name pattern: letters, digits, `-` and `_`, not all digits (those are versions). */
const ALIAS_NAME = /^(?!^[0-9]+$)[a-zA-Z0-9-_]{1,128}$/;
const VERSION = /^[0-9]+$/;

export type PoolFactory = (fn: ResolvedFunction, shared: SharedConcurrency) => FunctionPool;

/** Lambda's `LastModified` spelling: `2024-01-02T03:04:05.678+0000`. */
function lambdaTime(date = new Date()): string {
  return date.toISOString().replace('Z', '+0000');
}

export class LocalFunction {
  readonly shared: SharedConcurrency;
  latest: FunctionVersion;
  readonly versions = new Map<string, FunctionVersion>();
  readonly aliases = new Map<string, Alias>();
  /** Pools of replaced `$LATEST` code: they finish what they run, and their counts stay in the stats. */
  private readonly retired: FunctionPool[] = [];
  private readonly store: CodeStore;
  private nextVersion = 1;

  constructor(
    readonly base: ResolvedFunction,
    code: FunctionCode,
    private readonly newPool: PoolFactory,
    readonly arnOf: (qualifier?: string) => string,
  ) {
    this.shared = new SharedConcurrency(base.concurrency);
    this.store = new CodeStore(code.dir);
    this.latest = this.version(LATEST, code, '');
  }

  get name(): string {
    return this.base.name;
  }

  /**
   * The version an invocation with `qualifier` runs: `$LATEST` without one, the version named,
   * or the alias' version, its additional version chosen with the alias' weight.
   */
  route(qualifier: string | undefined, random: () => number = Math.random): FunctionVersion {
    if (qualifier === undefined || qualifier === LATEST) return this.latest;
    const alias = this.aliases.get(qualifier);
    const name = alias === undefined ? qualifier : pick(alias, random);
    const version = name === LATEST ? this.latest : this.versions.get(name);
    if (version === undefined) throw this.notFound(qualifier);
    return version;
  }

  /** The version a qualifier names, without routing (`GetFunction`): an alias' primary version. */
  named(qualifier: string | undefined): FunctionVersion {
    const alias = qualifier === undefined ? undefined : this.aliases.get(qualifier);
    return this.route(alias?.functionVersion ?? qualifier, () => 1);
  }

  /** `UpdateFunctionCode`: `$LATEST` runs the zip's code from now on. */
  async updateCode(zip: Buffer, revisionId: string | undefined): Promise<FunctionVersion> {
    if (revisionId !== undefined && revisionId !== this.latest.revisionId) throw this.revisionMismatch();
    let code: FunctionCode;
    try {
      code = await this.store.fromZip(zip, handlerModule(this.base.env._HANDLER ?? 'index.handler'));
    } catch (err) {
      throw new LambdaApiError('InvalidParameterValueException', 400, `Could not unzip uploaded file: ${String(err)}`);
    }
    this.retired.push(this.latest.pool);
    void this.latest.pool.close(this.base.timeoutMs);
    this.latest = this.version(LATEST, code, this.latest.description);
    return this.latest;
  }

  /**
   * `PublishVersion`: `$LATEST`'s code frozen as the next version; none is made when it is the
   * code of the last version published (Lambda answers that version).
   */
  async publish(opts: { codeSha256?: string; description?: string; revisionId?: string }): Promise<FunctionVersion> {
    if (opts.revisionId !== undefined && opts.revisionId !== this.latest.revisionId) throw this.revisionMismatch();
    let code: FunctionCode;
    try {
      code = await this.store.freeze(this.latest.code);
    } catch (err) {
      if (err instanceof CodeError) throw new LambdaApiError('InvalidParameterValueException', 400, err.message);
      throw err;
    }
    if (!this.latest.code.owned) this.latest = { ...this.latest, code: { ...this.latest.code, sha256: code.sha256 } };
    if (opts.codeSha256 !== undefined && opts.codeSha256 !== code.sha256) {
      throw new LambdaApiError(
        'InvalidParameterValueException',
        400,
        `CodeSHA256 (${opts.codeSha256}) is different from current CodeSHA256 in $LATEST (${code.sha256}). Please try again with the CodeSHA256 in $LATEST.`,
      );
    }
    const last = [...this.versions.values()].at(-1);
    if (last !== undefined && last.code.sha256 === code.sha256) return last;
    const version = this.version(String(this.nextVersion++), code, opts.description ?? '');
    this.versions.set(version.version, version);
    return version;
  }

  /** `CreateAlias`. */
  createAlias(input: AliasInput & { name: string }): Alias {
    if (!ALIAS_NAME.test(input.name)) {
      throw new LambdaApiError(
        'ValidationException',
        400,
        `1 validation error detected: Value '${input.name}' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)`,
      );
    }
    if (this.aliases.has(input.name))
      throw new LambdaApiError('ResourceConflictException', 409, `Alias already exists: ${this.arnOf(input.name)}`);
    const alias = this.checkedAlias(input.name, input.functionVersion, input.weights ?? {}, input.description ?? '');
    this.aliases.set(alias.name, alias);
    return alias;
  }

  /** `UpdateAlias`: what is given changes; routing omitted stays, routing with no weights is cleared. */
  updateAlias(name: string, input: Partial<AliasInput> & { revisionId?: string }): Alias {
    const current = this.alias(name);
    if (input.revisionId !== undefined && input.revisionId !== current.revisionId) throw this.revisionMismatch();
    const alias = this.checkedAlias(
      name,
      input.functionVersion ?? current.functionVersion,
      input.weights ?? current.weights,
      input.description ?? current.description,
    );
    this.aliases.set(name, alias);
    return alias;
  }

  alias(name: string): Alias {
    const alias = this.aliases.get(name);
    if (alias === undefined)
      throw new LambdaApiError('ResourceNotFoundException', 404, `Alias not found: ${this.arnOf(name)}`);
    return alias;
  }

  deleteAlias(name: string): void {
    this.aliases.delete(name);
  }

  /** Every pool's counters, summed (a function's stats cover all its versions). */
  stats(): LambdaCounters {
    const total: LambdaCounters = { ...zeroCounts(), environments: 0, busy: 0 };
    for (const pool of this.pools()) {
      const counters = pool.stats();
      for (const key of Object.keys(counters) as (keyof LambdaCounters)[]) total[key] += counters[key];
    }
    return total;
  }

  /** Counters per version (`$LATEST`, `1`, …). */
  versionStats(): Record<string, LambdaCounters> {
    const out: Record<string, LambdaCounters> = { [LATEST]: this.latest.pool.stats() };
    for (const [name, version] of this.versions) out[name] = version.pool.stats();
    return out;
  }

  async close(graceMs: number): Promise<void> {
    await Promise.all(this.pools().map((pool) => pool.close(graceMs)));
    await this.store.close();
  }

  /** `FunctionConfiguration` as Lambda answers it, for a version (ARN qualified by `qualifier`, if any). */
  configuration(version: FunctionVersion, qualifier?: string): Record<string, unknown> {
    const fn = version.fn;
    return {
      FunctionName: fn.name,
      FunctionArn: this.arnOf(qualifier ?? (version.version === LATEST ? undefined : version.version)),
      Runtime: GENERATOR_RUNTIME,
      Handler: fn.env._HANDLER,
      CodeSize: version.code.size,
      CodeSha256: version.code.sha256,
      Description: version.description,
      MemorySize: fn.memoryMb,
      Timeout: Math.ceil(fn.timeoutMs / 1000),
      LastModified: version.lastModified,
      Version: version.version,
      RevisionId: version.revisionId,
      State: 'Active',
      LastUpdateStatus: 'Successful',
      PackageType: 'Zip',
      Architectures: ['arm64'],
    };
  }

  aliasConfiguration(alias: Alias): Record<string, unknown> {
    return {
      AliasArn: this.arnOf(alias.name),
      Name: alias.name,
      FunctionVersion: alias.functionVersion,
      Description: alias.description,
      ...(Object.keys(alias.weights).length > 0 ? { RoutingConfig: { AdditionalVersionWeights: alias.weights } } : {}),
      RevisionId: alias.revisionId,
    };
  }

  notFound(qualifier: string | undefined): LambdaApiError {
    return new LambdaApiError('ResourceNotFoundException', 404, `Function not found: ${this.arnOf(qualifier)}`);
  }

  private pools(): FunctionPool[] {
    return [this.latest.pool, ...[...this.versions.values()].map((v) => v.pool), ...this.retired];
  }

  private version(name: string, code: FunctionCode, description: string): FunctionVersion {
    const fn: ResolvedFunction = {
      ...this.base,
      handler: join(code.dir, code.module),
      env: {
        ...this.base.env,
        AWS_LAMBDA_FUNCTION_VERSION: name,
        AWS_LAMBDA_LOG_STREAM_NAME: `local/[${name}]${this.base.name}`,
        LAMBDA_TASK_ROOT: code.dir,
      },
    };
    return {
      version: name,
      fn,
      code,
      pool: this.newPool(fn, this.shared),
      description,
      revisionId: randomUUID(),
      lastModified: lambdaTime(),
    };
  }

  /**
   * An alias as Lambda accepts it: its version exists; with routing, one additional version,
   * published (not `$LATEST`), other than the primary, weighted within 0..1, and a primary that is
   * published too.
   */
  private checkedAlias(name: string, functionVersion: string, weights: Record<string, number>, description: string) {
    if (functionVersion !== LATEST && !this.versions.has(functionVersion)) throw this.notFound(functionVersion);
    const entries = Object.entries(weights);
    if (entries.length > 1)
      throw new LambdaApiError(
        'InvalidParameterValueException',
        400,
        'Number of additional versions must be at most 1',
      );
    for (const [version, weight] of entries) {
      if (!VERSION.test(version) || !VERSION.test(functionVersion))
        throw new LambdaApiError(
          'InvalidParameterValueException',
          400,
          'Routing is only supported between published versions, not $LATEST',
        );
      if (version === functionVersion)
        throw new LambdaApiError(
          'InvalidParameterValueException',
          400,
          `Invalid function version ${version}: the additional version must differ from the alias' version`,
        );
      if (!this.versions.has(version)) throw this.notFound(version);
      if (!Number.isFinite(weight) || weight < 0 || weight > 1)
        throw new LambdaApiError(
          'ValidationException',
          400,
          `1 validation error detected: Value '${weight}' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0]`,
        );
    }
    return { name, functionVersion, description, weights: { ...weights }, revisionId: randomUUID() } satisfies Alias;
  }

  private revisionMismatch(): LambdaApiError {
    return new LambdaApiError(
      'PreconditionFailedException',
      412,
      'The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id',
    );
  }
}

export interface AliasInput {
  functionVersion: string;
  description?: string;
  weights?: Record<string, number>;
}

/** Lambda's weighted routing: each invocation goes to the additional version with its weight's probability. */
function pick(alias: Alias, random: () => number): string {
  for (const [version, weight] of Object.entries(alias.weights)) if (random() < weight) return version;
  return alias.functionVersion;
}
