import type { AgentOptions, RequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { Agent, type Dispatcher, ProxyAgent } from 'undici';

// The connection pool the API client talks through: the kubeconfig's TLS and proxy settings, on HTTP/1.1 only.
//
// undici 8 offers HTTP/2 by ALPN and kube-apiserver accepts it, so every request and watch of a client would share one
// HTTP/2 session. Aborting watch streams on such a session (what every informer stop, leader loss or broken network
// does) sent undici's HTTP/2 client into a native busy loop in Node's Http2Session::SendPendingData that grew the
// process by >200 MB/s until the kernel's OOM killer ended it at 23 GB (seen in the leader-election integration test,
// about 1 run in 30; a gdb and perf sample of the runaway process both showed only nghttp2 frames). HTTP/1.1 has no
// shared session to corrupt: a watch owns its connection and an abort closes it. kube-rs talks HTTP/1.1 to the API
// server by default for the same reason of simplicity; the cost is one connection per open watch (a handful here).

/**
 * Builds an HTTP/1.1-only dispatcher with the kubeconfig's TLS client settings (CA, client certificate and key,
 * server name, verification) and HTTP proxy. Undefined for a SOCKS proxy, whose connector client-node keeps private:
 * the caller then uses the kubeconfig's own dispatcher.
 */
export async function newApiDispatcher(kc: KubeConfig): Promise<Dispatcher | undefined> {
  const https: RequestOptions = {};
  await kc.applyToHTTPSOptions(https);
  // The fields client-node itself carries from the request options into its dispatcher.
  const tls: AgentOptions = {
    ca: https.ca,
    cert: https.cert,
    key: https.key,
    pfx: https.pfx,
    passphrase: https.passphrase,
    ...(https.rejectUnauthorized === undefined ? {} : { rejectUnauthorized: https.rejectUnauthorized }),
    ...(https.servername === undefined ? {} : { servername: https.servername }),
  };
  const plan = kc.createDispatcherOptions(kc.getCurrentCluster(), tls);
  switch (plan.type) {
    case 'agent':
      return new Agent({ allowH2: false, connect: plan.connect });
    case 'proxy':
      return new ProxyAgent({ allowH2: false, uri: plan.uri, requestTls: plan.requestTls, connect: plan.connect });
    case 'none':
      return new Agent({ allowH2: false });
    case 'socks':
      return undefined;
  }
}
