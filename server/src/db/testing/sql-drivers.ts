/**
 * Test helper: opens `SqlClient`s with either driver against the test cluster. For `neon` it runs a local
 * WebSocket→TCP relay (Node 20 has no global WebSocket, so `ws` is passed to the driver). Node only.
 *
 * @example
 * describe.each(SQL_DRIVERS)('%s', (driver) => {
 *   const drivers = createDriverHarness(driver);
 *   afterAll(() => drivers.close());
 *   it('…', async () => { const client = await drivers.open(db.url); … });
 * });
 */

import WebSocket from 'ws';
import { type OpenSqlClientOptions, openSqlClient, type SqlClient, type SqlDriver } from '../sql-client.ts';
import { startWsTcpRelay, type WsTcpRelay } from './ws-tcp-relay.ts';

/** Both drivers, for `describe.each`. */
export const SQL_DRIVERS: readonly SqlDriver[] = ['pg', 'neon'];

/** Opens clients of one driver and closes them (and the relay) at the end. */
export interface DriverHarness {
  readonly driver: SqlDriver;
  /** Opens a client on `url`; it is closed by {@link DriverHarness.close} unless ended before. */
  open(url: string): Promise<SqlClient>;
  /** The options `open` passes to `openSqlClient` (starts the relay for neon). */
  options(): Promise<OpenSqlClientOptions>;
  /** Ends every client opened here, then stops the relay. */
  close(): Promise<void>;
}

/** A harness for `driver`; the neon relay starts on first use. */
export function createDriverHarness(driver: SqlDriver): DriverHarness {
  let relay: Promise<WsTcpRelay> | undefined;
  const clients = new Set<SqlClient>();
  const options = async (): Promise<OpenSqlClientOptions> => {
    if (driver !== 'neon') return {};
    relay ??= startWsTcpRelay();
    const { wsProxy } = await relay;
    return {
      neon: {
        wsProxy,
        useSecureWebSocket: false,
        pipelineTLS: false,
        pipelineConnect: false,
        webSocketConstructor: WebSocket,
      },
    };
  };
  return {
    driver,
    options,
    async open(url) {
      const client = await openSqlClient(url, driver, await options());
      clients.add(client);
      return client;
    },
    async close() {
      await Promise.all([...clients].map((client) => client.end()));
      clients.clear();
      if (relay) await (await relay).close();
    },
  };
}
