import type { AgentOptions, RequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { Agent, type Dispatcher, ProxyAgent } from 'undici';

// The connection pool the API client talks through: the kubeconfig's TLS and proxy settings, on HTTP/1.1 only.
//
// undici 8 offers HTTP/2 by ALPN and kube-apiserver accepts it, so every request and watch of a client would share one
// HTTP/2 session. On such a session undici's HTTP/2 client falls into a native busy loop in Node's
// Http2Session::SendPendingData that grows the process by >100 MB/s until the kernel's OOM killer ends it (23 GB once,
// in the leader-election integration test, about 1 run in 30): a write aborted while its body waits for flow-control
// window is torn down without RST_STREAM. hack/repro/http2-watch-abort.ts reproduces it within seconds (20 concurrent
// PUTs of 4 KiB with a 3 s timeout); its HTTP/1.1 control stays clean. HTTP/1.1 has no shared
// session: each request and watch owns its connection. Cause, upstream issues and the cost of HTTP/1.1:
// docs/adr/0005-http1-to-the-api-server.md. kube-rs talks HTTP/1.1 to the API server by default too.

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
