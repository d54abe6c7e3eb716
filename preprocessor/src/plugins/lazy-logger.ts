import type { FastifyBaseLogger, FastifyServerOptions } from 'fastify';

type ChildLoggerFactory = NonNullable<FastifyServerOptions['childLoggerFactory']>;

type Args = [obj: unknown, msg?: string, ...rest: unknown[]];
type Method = 'info' | 'error' | 'debug' | 'fatal' | 'warn' | 'trace' | 'silent';

/**
 * A request logger whose pino child (with its `reqId` binding) is made on the first log call.
 * Fastify makes a child per request; a cache hit logs nothing, and making the child cost a
 * visible share of a hit's throughput (the cache-hit arm of `npm run bench -w preprocessor`,
 * against a bare Fastify route).
 */
class LazyChildLogger {
  private real: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Record<string, unknown>,
    private readonly options: { level?: string },
  ) {}

  private get logger(): FastifyBaseLogger {
    this.real ??= this.parent.child(this.bindings, this.options);
    return this.real;
  }

  get level(): string {
    return this.real?.level ?? this.options.level ?? this.parent.level;
  }

  set level(level: string) {
    this.logger.level = level;
  }

  child(bindings: Record<string, unknown>, options?: { level?: string }): FastifyBaseLogger {
    return this.logger.child(bindings, options);
  }

  private call(method: Method, args: Args): void {
    this.logger[method](...args);
  }

  info(...args: Args): void {
    this.call('info', args);
  }
  error(...args: Args): void {
    this.call('error', args);
  }
  debug(...args: Args): void {
    this.call('debug', args);
  }
  fatal(...args: Args): void {
    this.call('fatal', args);
  }
  warn(...args: Args): void {
    this.call('warn', args);
  }
  trace(...args: Args): void {
    this.call('trace', args);
  }
  silent(...args: Args): void {
    this.call('silent', args);
  }
}

export const lazyChildLoggerFactory: ChildLoggerFactory = (logger, bindings, options) =>
  new LazyChildLogger(logger, bindings, options);
