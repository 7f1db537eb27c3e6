import { connect, createServer, type Server } from 'node:net';

/**
 * Listens on the Unix socket `socketPath` and relays each connection, byte for byte, to the TCP address of `server`
 * (a URL such as the API server's `https://127.0.0.1:6443`; TLS passes through untouched). Network namespaces reach the
 * root namespace's loopback only through a socket file, so the data plane's kube-proxies and the runc Pods' relays
 * connect here. The server is unref'd: it never keeps the process alive. Close it to stop.
 */
export async function listenUnixRelay(socketPath: string, server: string): Promise<Server> {
  const target = new URL(server);
  const port = Number(target.port);
  const relay = createServer((downstream) => {
    const upstream = connect(port, target.hostname);
    const close = () => {
      downstream.destroy();
      upstream.destroy();
    };
    downstream.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
    downstream.pipe(upstream).pipe(downstream);
  });
  await new Promise<void>((resolve, reject) => {
    relay.once('error', reject);
    relay.listen(socketPath, () => resolve());
  });
  relay.unref();
  return relay;
}
