/**
 * `SqlClient` over `@neondatabase/serverless` (node-postgres over a WebSocket): reaches Neon from workerd without
 * TCP, and any Postgres through a WebSocket→TCP relay.
 */

import { Client } from '@neondatabase/serverless';
import {
  DEFAULT_APPLICATION_NAME,
  DEFAULT_CONNECT_TIMEOUT_MS,
  type DriverClient,
  RAW_TEXT_TYPES,
  startDriverSession,
} from './driver-session.ts';
import type { OpenSqlClientOptions, SqlClient } from './sql-client.ts';

/** Opens a Neon-driver session on `url`; see {@link openSqlClient}. */
export function openNeonClient(url: string, options: OpenSqlClientOptions = {}): Promise<SqlClient> {
  const client = new Client({
    connectionString: url,
    connectionTimeoutMillis: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    application_name: options.applicationName ?? DEFAULT_APPLICATION_NAME,
    types: RAW_TEXT_TYPES,
  });
  // Per-client settings (the socket's config), so that sessions with different proxies can coexist.
  const socket = client.neonConfig;
  const neon = options.neon ?? {};
  if (neon.wsProxy !== undefined) socket.wsProxy = neon.wsProxy;
  if (neon.useSecureWebSocket !== undefined) socket.useSecureWebSocket = neon.useSecureWebSocket;
  if (neon.pipelineTLS !== undefined) socket.pipelineTLS = neon.pipelineTLS;
  if (neon.pipelineConnect !== undefined) socket.pipelineConnect = neon.pipelineConnect;
  if (neon.webSocketConstructor !== undefined) {
    socket.webSocketConstructor = neon.webSocketConstructor as typeof socket.webSocketConstructor;
  }
  return startDriverSession(client as unknown as DriverClient);
}
