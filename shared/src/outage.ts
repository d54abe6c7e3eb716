/** The pino-compatible subset that outage logs, the derivative store and prewarm log through. */
export interface WarnLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/**
 * One warning per outage, not one per request: the first failure is logged with its error, the
 * ones after it only counted, and the first success after them logs the end with the count.
 */
export class OutageLog {
  private failures = 0;

  constructor(
    private readonly logger: WarnLogger,
    /** What failed, as the log lines name it (`derivative store read`). */
    private readonly what: string,
  ) {}

  /** Whether an outage is in progress (a failure not yet followed by a success). */
  get down(): boolean {
    return this.failures > 0;
  }

  failed(err: unknown, detail: object = {}): void {
    if (this.failures++ === 0)
      this.logger.warn({ err, ...detail }, `${this.what} failed; counted, not logged again until it works`);
  }

  succeeded(): void {
    if (this.failures === 0) return;
    this.logger.info({ failures: this.failures }, `${this.what} works again`);
    this.failures = 0;
  }
}
