import type { AgentOptions, RequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { Agent, type Dispatcher, ProxyAgent } from 'undici';

// The connection pools the API client talks through: the kubeconfig's TLS and proxy settings; requests without a body
// (gets, lists, watches) on HTTP/2 where the server offers it, requests with a body (creates, updates, patches,
// deletes with options) on HTTP/1.1.
//
// undici 8 offers HTTP/2 by ALPN and kube-apiserver accepts it. On one HTTP/2 session undici's client can fall into a
// native busy loop in Node's Http2Session::SendPendingData that grows the process by >100 MB/s until the kernel's OOM
// killer ends it (23 GB once, in the leader-election integration test, about 1 run in 30). Its trigger is a request
// aborted while its body waits for flow-control window: the stream is torn down without RST_STREAM and Node then feeds
// nghttp2 empty DATA frames forever. hack/repro/http2-watch-abort.ts reproduces it within seconds (20 concurrent PUTs of
// 4 KiB with a 3 s timeout); the same load with empty bodies, and aborted watches and lists in every combination
// tried, ran clean. So no request with a body goes over HTTP/2 here, and the trigger cannot occur; what HTTP/2 still
// carries are the watches and reads, where it costs less than HTTP/1.1 (one session instead of a connection per watch,
// frames parsed natively). Cause, upstream issues and measurements: docs/adr/0005-http1-to-the-api-server.md.

/** The pools of one API client: `withoutBody` may speak HTTP/2, `withBody` speaks HTTP/1.1 only. */
export interface ApiDispatchers {
  readonly withoutBody: Dispatcher;
  readonly withBody: Dispatcher;
}

/**
 * Builds the client's pools with the kubeconfig's TLS client settings (CA, client certificate and key, server name,
 * verification) and HTTP proxy. Through a proxy, and to a plain-HTTP server, both are one HTTP/1.1 pool. Undefined for
 * a SOCKS proxy, whose connector client-node keeps private: the caller then uses the kubeconfig's own dispatcher.
 * `http2` false keeps every request on HTTP/1.1.
 */
export async function newApiDispatchers(kc: KubeConfig, http2 = true): Promise<ApiDispatchers | undefined> {
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
  const one = (d: Dispatcher): ApiDispatchers => ({ withoutBody: d, withBody: d });
  switch (plan.type) {
    case 'agent': {
      const withBody = new Agent({ allowH2: false, connect: plan.connect });
      // HTTP/2 is offered by ALPN, so only over TLS.
      const tlsServer = kc.getCurrentCluster()?.server.startsWith('https:') ?? false;
      return http2 && tlsServer ? { withoutBody: new Agent({ allowH2: true, connect: plan.connect }), withBody } : one(withBody);
    }
    case 'proxy':
      return one(new ProxyAgent({ allowH2: false, uri: plan.uri, requestTls: plan.requestTls, connect: plan.connect }));
    case 'none':
      return one(new Agent({ allowH2: false }));
    case 'socks':
      return undefined;
  }
}
