import { createConnection, createServer, type Server, type Socket } from 'node:net';

// Test hosts reach the root namespace only (each has a /30 to it, and the root namespace does not forward), so a
// server in one host cannot reach a server in another. A relay in the root namespace, listening on the gateway
// address of one host and forwarding to another host, gives replication (replica -> primary) a path without
// touching the machine's forwarding settings.

export interface Relay {
  readonly address: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Listens on `listenAddress` (a port chosen by the system) and forwards each connection to `to`. */
export async function startRelay(listenAddress: string, to: { readonly address: string; readonly port: number }): Promise<Relay> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((inbound) => {
    const outbound = createConnection({ host: to.address, port: to.port });
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        inbound.destroy();
        outbound.destroy();
      });
    }
    inbound.pipe(outbound).pipe(inbound);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, listenAddress, resolve);
  });
  const { port } = server.address() as { port: number };
  return {
    address: listenAddress,
    port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
