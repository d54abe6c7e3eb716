/**
 * A rules or catalog document that cannot be used. An operator error, not a
 * request error: it stops start-up, or is logged while the last good document
 * stays in force. Never sent to a client.
 */
export class RulesError extends Error {
  /** The document: a file path or an `s3://` URL. */
  readonly document: string;
  /** JSON pointer of the offending field, when there is one. */
  readonly path: string | undefined;

  constructor(document: string, path: string | undefined, detail: string, options?: { cause?: unknown }) {
    super(path === undefined ? `${document}: ${detail}` : `${document}: ${path || '/'}: ${detail}`, options);
    this.name = 'RulesError';
    this.document = document;
    this.path = path;
  }
}

export function isRulesError(err: unknown): err is RulesError {
  return err instanceof RulesError;
}
