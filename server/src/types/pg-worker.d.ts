// The slice of `pg` (node-postgres) the Worker uses. `@types/pg` pulls in all of `@types/node`, which must not
// leak into Worker code, so server/tsconfig.json maps `pg` here. Keep this a strict subset of `@types/pg`.

/** Options of `new pg.Client()` used by the Worker. */
interface WorkerPgClientConfig {
  connectionString?: string;
  connectionTimeoutMillis?: number;
  query_timeout?: number;
  statement_timeout?: number;
  application_name?: string;
}

interface WorkerPgQueryResult<R> {
  rows: R[];
  rowCount: number | null;
}

declare class WorkerPgClient {
  constructor(config?: string | WorkerPgClientConfig);
  connect(): Promise<void>;
  query<R = Record<string, unknown>>(text: string, values?: unknown[]): Promise<WorkerPgQueryResult<R>>;
  end(): Promise<void>;
  on(event: 'error', listener: (error: Error) => void): this;
}

declare const pg: { Client: typeof WorkerPgClient };
export default pg;
