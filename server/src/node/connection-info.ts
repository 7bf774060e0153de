/** How to reach one Postgres database over TCP. */
export interface PostgresConnectionInfo {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
  /** `postgres://user:password@host:port/database`, usable by `psql`, `pg` and the Worker. */
  readonly url: string;
}

/** Builds a `postgres://` URL (user, password and database percent-encoded). */
export function formatPostgresUrl(info: Omit<PostgresConnectionInfo, 'url'>): string {
  const user = encodeURIComponent(info.user);
  const password = encodeURIComponent(info.password);
  return `postgres://${user}:${password}@${info.host}:${info.port}/${encodeURIComponent(info.database)}`;
}

/** The same server and credentials, another database. */
export function withDatabase(info: PostgresConnectionInfo, database: string): PostgresConnectionInfo {
  const next = { host: info.host, port: info.port, user: info.user, password: info.password, database };
  return { ...next, url: formatPostgresUrl(next) };
}

/** Parses a `postgres://` or `postgresql://` URL into its parts (defaults: port 5432, database = user). */
export function parsePostgresUrl(url: string): PostgresConnectionInfo {
  const parsed = new URL(url);
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new Error(`Not a postgres:// URL: ${parsed.protocol}//…`);
  }
  const user = decodeURIComponent(parsed.username) || 'postgres';
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, '')) || user;
  return {
    host: parsed.hostname,
    port: parsed.port ? Number.parseInt(parsed.port, 10) : 5432,
    user,
    password: decodeURIComponent(parsed.password),
    database,
    url,
  };
}

/** The URL with its password replaced by `***`, for logs. */
export function redactPostgresUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<unparseable DATABASE_URL>';
  }
}
