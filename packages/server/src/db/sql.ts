// The SQL interface every repository writes against, apart from the engines behind it (database.ts)
// so that the migrations and what they use can name it without importing the engines that run them.

export type SqlValue =
  string | number | bigint | boolean | null | Date | Buffer | Uint8Array | unknown[] | Record<string, unknown>;

export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  /** Runs a script of several statements (no parameters). */
  exec(sql: string): Promise<void>;
}

export interface Database extends Queryable {
  readonly engine: 'pglite' | 'postgres';
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /**
   * Follows `pg_notify(channel, payload)` made by any process on this database, delivered once the
   * notifying transaction commits. PostgreSQL: one dedicated connection per database handle, shared
   * by every listener and re-established when lost. Resolves once listening (or after a first failed
   * attempt, reported to `error`); the function it returns stops listening.
   */
  listen(channel: string, listener: NotificationListener): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

export interface NotificationListener {
  message(payload: string): void;
  /** Notifications may have been missed (the listening connection was down): re-read what is followed. */
  gap(): void;
  /** The listening connection failed or was lost; it is being re-established. */
  error(e: Error): void;
}
