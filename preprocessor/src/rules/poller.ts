import type { S3Client } from '@aws-sdk/client-s3';
import { RulesError } from './errors.js';
import { parseCatalog, parseRules } from './load.js';
import type { Catalog, Rules } from './schema.js';
import { openDocument, type DocumentSource } from './source.js';

/** The pino-compatible subset the poller logs through. */
export interface RulesLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** The rules and catalog in force. Never mutated: a change makes a new state. */
export interface RulesState {
  rules: Rules;
  catalog: Catalog;
  rulesEtag: string;
  catalogEtag: string;
  loadedAt: Date;
}

export interface RulesChange {
  rules: boolean;
  catalog: boolean;
}

export type ChangeListener = (next: RulesState, previous: RulesState, changed: RulesChange) => void;

export interface RulesPollerOptions {
  /** A file path or `s3://bucket/key`. */
  rules: string;
  /** A file path or `s3://bucket/key`. */
  catalog: string;
  /** Required when a location is on S3. */
  s3Client?: S3Client;
  /** Poll interval; 0 turns polling off (then only `reload()` checks). */
  pollMs?: number;
  logger: RulesLogger;
  onChange?: ChangeListener;
}

export interface DocumentStatus {
  location: string;
  /** The version in force. */
  etag: string;
  /** Why the latest version is not in force, or why it could not be read. */
  error: string | undefined;
  errorAt: Date | undefined;
}

export interface RulesPollerStatus {
  /** Always true once `create` has returned: the poller never runs without documents. */
  loaded: boolean;
  /** False while either document's latest version is refused or unreadable. */
  ok: boolean;
  loadedAt: Date;
  lastCheckAt: Date;
  /** The first document error, for `/readyz`. */
  lastError: string | undefined;
  rules: DocumentStatus;
  catalog: DocumentStatus;
}

/** Default poll interval: edits show up within seconds; an unchanged S3 object costs a 304. */
export const DEFAULT_POLL_MS = 5000;

/**
 * The rules and catalog in force, reloaded when their documents change. A
 * broken new version is refused (logged with the field at fault) and the last
 * good one keeps serving.
 */
export class RulesPoller {
  private state: RulesState;
  private lastCheckAt: Date;
  private readonly listeners = new Set<ChangeListener>();
  private queue: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(
    private readonly rulesDoc: TrackedDocument<Rules>,
    private readonly catalogDoc: TrackedDocument<Catalog>,
    private readonly logger: RulesLogger,
    private readonly pollMs: number,
    initial: RulesState,
  ) {
    this.state = initial;
    this.lastCheckAt = initial.loadedAt;
  }

  /** Loads both documents; throws a RulesError when either is unreadable or invalid. */
  static async create(options: RulesPollerOptions): Promise<RulesPoller> {
    const pollMs = options.pollMs ?? DEFAULT_POLL_MS;
    if (!Number.isInteger(pollMs) || pollMs < 0) throw new TypeError(`pollMs must be an integer >= 0, got ${pollMs}`);
    const rulesDoc = new TrackedDocument(openDocument(options.rules, options.s3Client), parseRules, options.logger);
    const catalogDoc = new TrackedDocument(
      openDocument(options.catalog, options.s3Client),
      parseCatalog,
      options.logger,
    );
    const [rules, catalog] = await Promise.all([rulesDoc.load(), catalogDoc.load()]);
    const initial: RulesState = {
      rules: rules.value,
      catalog: catalog.value,
      rulesEtag: rules.etag,
      catalogEtag: catalog.etag,
      loadedAt: new Date(),
    };
    const poller = new RulesPoller(rulesDoc, catalogDoc, options.logger, pollMs, initial);
    if (options.onChange) poller.onChange(options.onChange);
    options.logger.info(
      { rules: options.rules, catalog: options.catalog, rulesEtag: rules.etag, catalogEtag: catalog.etag },
      'rules and catalog loaded',
    );
    poller.schedule();
    return poller;
  }

  current(): RulesState {
    return this.state;
  }

  /** Checks both documents now (after any check in flight) and resolves with what changed. */
  reload(): Promise<RulesChange> {
    const run = this.queue.then(() => this.check());
    this.queue = run.catch(() => undefined);
    return run;
  }

  status(): RulesPollerStatus {
    const rules = this.rulesDoc.status(this.state.rulesEtag);
    const catalog = this.catalogDoc.status(this.state.catalogEtag);
    const lastError = rules.error ?? catalog.error;
    return {
      loaded: true,
      ok: lastError === undefined,
      loadedAt: this.state.loadedAt,
      lastCheckAt: this.lastCheckAt,
      lastError,
      rules,
      catalog,
    };
  }

  /** Called after each change with the new and previous states; returns an unsubscribe function. */
  onChange(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Stops polling. Idempotent. */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.listeners.clear();
  }

  private schedule(): void {
    if (this.closed || this.pollMs === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.reload()
        .catch((err: unknown) => this.logger.error({ err }, 'rules check failed'))
        .finally(() => this.schedule());
    }, this.pollMs);
    this.timer.unref();
  }

  private async check(): Promise<RulesChange> {
    const [rules, catalog] = await Promise.all([this.rulesDoc.check(), this.catalogDoc.check()]);
    this.lastCheckAt = new Date();
    const changed: RulesChange = { rules: rules !== undefined, catalog: catalog !== undefined };
    if (this.closed || (!rules && !catalog)) return changed;

    const previous = this.state;
    this.state = {
      rules: rules?.value ?? previous.rules,
      catalog: catalog?.value ?? previous.catalog,
      rulesEtag: rules?.etag ?? previous.rulesEtag,
      catalogEtag: catalog?.etag ?? previous.catalogEtag,
      loadedAt: this.lastCheckAt,
    };
    this.logger.info(
      { changed, rulesEtag: this.state.rulesEtag, catalogEtag: this.state.catalogEtag },
      `reloaded ${[changed.rules && 'rules', changed.catalog && 'catalog'].filter(Boolean).join(' and ')}`,
    );
    for (const listener of this.listeners) {
      try {
        listener(this.state, previous, changed);
      } catch (err) {
        this.logger.error({ err }, 'rules change listener failed');
      }
    }
    return changed;
  }
}

interface Loaded<T> {
  value: T;
  etag: string;
}

/** One document: the version in force, the last version seen, and why a newer one was refused. */
class TrackedDocument<T> {
  /** The last version fetched, good or refused: polls ask "changed since this?". */
  private seenEtag: string | undefined;
  private goodEtag: string | undefined;
  private fetchError: { message: string; at: Date } | undefined;
  private parseError: { message: string; at: Date } | undefined;

  constructor(
    private readonly source: DocumentSource,
    private readonly parse: (text: string, origin: string) => T,
    private readonly logger: RulesLogger,
  ) {}

  /** The first load: any failure is thrown. */
  async load(): Promise<Loaded<T>> {
    const snapshot = await this.source.fetch();
    if (snapshot === 'unchanged') throw new RulesError(this.source.location, undefined, 'no document');
    const value = this.parse(snapshot.text, this.source.location);
    this.seenEtag = snapshot.etag;
    this.goodEtag = snapshot.etag;
    return { value, etag: snapshot.etag };
  }

  /** A new good version, or undefined (unchanged, refused or unreadable: logged here). */
  async check(): Promise<Loaded<T> | undefined> {
    let snapshot;
    try {
      snapshot = await this.source.fetch(this.seenEtag);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      // Log once per outage, not once per poll.
      if (this.fetchError?.message !== message) {
        this.logger.warn({ err, document: this.source.location }, `${message}; keeping the last good version`);
      }
      this.fetchError = { message, at: new Date() };
      return undefined;
    }
    this.fetchError = undefined;
    if (snapshot === 'unchanged') return undefined;

    this.seenEtag = snapshot.etag;
    let value: T;
    try {
      value = this.parse(snapshot.text, this.source.location);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.parseError = { message, at: new Date() };
      this.logger.error(
        {
          err,
          document: this.source.location,
          field: err instanceof RulesError ? err.path : undefined,
          etag: snapshot.etag,
        },
        `refused ${message}; keeping the last good version`,
      );
      return undefined;
    }
    this.parseError = undefined;
    // Reverted to the version in force: nothing changed.
    if (snapshot.etag === this.goodEtag) return undefined;
    this.goodEtag = snapshot.etag;
    return { value, etag: snapshot.etag };
  }

  status(etag: string): DocumentStatus {
    const error = this.fetchError ?? this.parseError;
    return { location: this.source.location, etag, error: error?.message, errorAt: error?.at };
  }
}
