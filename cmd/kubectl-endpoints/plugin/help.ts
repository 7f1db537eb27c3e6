import { DIFF_EXIT } from './explain/explain-diff.ts';
import { WHY_POD_EXIT } from './explain/explain-pod.ts';
import { WHY_EXIT } from './explain/explain-why.ts';

// The --help text. Exit codes are part of the interface for scripts, so they are listed here and taken from the same
// constants the command returns.

/** The full help text, ending with a newline. */
export function helpText(): string {
  return `kubectl endpoints: why a Service has (or has no) endpoints, and whether its Endpoints and EndpointSlices are what
the endpoint controllers would write. Reads only; never changes the cluster.

Usage:
  kubectl endpoints why SERVICE [flags]
  kubectl endpoints why SERVICE POD [flags]
  kubectl endpoints why SERVICE --watch [flags]
  kubectl endpoints diff SERVICE [flags]

SERVICE is NAME or svc/NAME; POD is NAME or pod/NAME.

Commands:
  why    Service-level causes first (not found, ExternalName, no selector and where endpoints come from instead,
         headless, publishNotReadyAddresses, nothing selected, over capacity, stored objects out of date); then every
         Pod the selector matches as an endpoint (ready, serving, terminating, not ready or absent) with the first
         rule it fails, in the controllers' order; Pods that almost match the selector; the backends of an
         ExternalEndpoints-backed Service; and the SessionAffinityPolicy that governs the Service.
  why SERVICE POD
         One Pod in depth: the selector label by label, Node, IPs and families, conditions, containers, readiness
         gates, which Service ports resolve on it, the controllers' verdict, and where it is in the stored
         EndpointSlices (conditions, zone, hints) and Endpoints, against what the controllers would write now.
  why SERVICE --watch
         Follows the Service's Pods, EndpointSlices, Endpoints and the Service itself, and prints each change as it
         happens with its time, and for slice updates the delay since the Pod change behind them; until Ctrl-C.
  diff   What the Endpoints, EndpointSlice and mirroring controllers would write now, computed with their own code
         from the live objects, against what is stored; with who wrote the stored objects.

Flags:
  -n, --namespace NAME           namespace (default: the context's namespace, else "default")
      --context NAME             kubeconfig context (default: the current context)
      --kubeconfig PATH          kubeconfig file (default: $KUBECONFIG, else ~/.kube/config, else in-cluster)
  -o, --output text|json         output format (default text); json is a stable schema (see the README); with
                                 --watch, one JSON object per line
  -w, --watch                    with why SERVICE: follow changes until interrupted
      --color auto|always|never  colour (default auto: only on a terminal, and not when NO_COLOR is set)
      --max-endpoints-per-slice N             the EndpointSlice controller's setting (default 100)
      --mirroring-max-endpoints-per-subset N  the mirroring controller's setting (default 1000)
      --request-timeout DURATION              timeout of each API request, e.g. 30s (default 30s; 0: none)
  -h, --help                     show this help
      --version                  print the version

Exit codes:
  why    ${WHY_EXIT.ready}  the Service's EndpointSlices publish at least one ready endpoint
         ${WHY_EXIT.noReadyEndpoints}  they publish none
         ${WHY_EXIT.error}  error: Service not found, API error, invalid command line
  why SERVICE POD
         ${WHY_POD_EXIT.ready}  a stored EndpointSlice lists the Pod as ready
         ${WHY_POD_EXIT.notReady}  none does
         ${WHY_POD_EXIT.error}  error: Service or Pod not found, API error, invalid command line
  why SERVICE --watch
         0  interrupted (Ctrl-C);  2  error
  diff   ${DIFF_EXIT.inSync}  stored objects match what the controllers would write
         ${DIFF_EXIT.different}  they differ
         ${DIFF_EXIT.error}  error: Service not found (and nothing stored under its name), plan not computable, API error, invalid command line
`;
}
