import type { ExternalEndpoint, ExternalEndpointsSpec } from '../../../api/v1alpha1/external-endpoints.ts';
import { parseStatusRange } from './http-probe.ts';
import { decodeSendText } from './tcp-exchange-probe.ts';
import type { ProbeCredentials, ProbeSpec, StatusRange } from './prober.ts';
import { AnswerPattern } from './answer-pattern.ts';

// From the ExternalEndpoints spec (defaults applied by its zod schema) to what the prober and scheduler take.

/** The health check cannot be turned into a probe (admission rules should have refused the object). */
export class InvalidHealthCheckError extends Error {
  override readonly name = 'InvalidHealthCheckError';
}

/** How the backends of one object are probed, or `undefined` when they are not (no healthCheck, or type None). */
export interface ProbePlan {
  readonly spec: ProbeSpec;
  readonly intervalMs: number;
}

/**
 * The probe plan of `spec`. HTTPS verification trusts `caBundle` when given, else `healthCheck.tls.caBundle`, else the
 * system roots. Pure. Throws {@link InvalidHealthCheckError} on a bad status range.
 */
export function probePlanFor(
  spec: ExternalEndpointsSpec,
  caBundle?: string,
  credentials?: { readonly value?: ProbeCredentials | undefined; readonly error?: string | undefined },
): ProbePlan | undefined {
  const hc = spec.healthCheck;
  if (hc === undefined || hc.type === 'None') return undefined;
  const timeoutMs = hc.timeoutSeconds * 1000;
  const intervalMs = hc.intervalSeconds * 1000;
  if (hc.type === 'TCP') {
    const tcp = hc.tcp;
    if (tcp === undefined) return { spec: { type: 'TCP', timeoutMs }, intervalMs };
    let send: Uint8Array;
    let expect: AnswerPattern;
    try {
      send = tcp.sendBase64 !== undefined ? Uint8Array.from(Buffer.from(tcp.sendBase64, 'base64')) : decodeSendText(tcp.send ?? '');
    } catch (err) {
      throw new InvalidHealthCheckError('healthCheck.tcp.send is invalid', { cause: err });
    }
    try {
      expect = AnswerPattern.compile(tcp.expect);
    } catch (err) {
      throw new InvalidHealthCheckError(`healthCheck.tcp.expect is not a valid RE2 regular expression: ${(err as Error).message}`, {
        cause: err,
      });
    }
    return { spec: { type: 'TCP', timeoutMs, exchange: { send, expect, maxReadBytes: tcp.maxReadBytes } }, intervalMs };
  }
  if (hc.type === 'GRPC') return { spec: { type: 'GRPC', timeoutMs, service: hc.grpc?.service ?? '' }, intervalMs };
  if (hc.type === 'Redis') {
    const named = hc.redis?.credentialsSecretRef !== undefined;
    return {
      spec: {
        type: 'Redis',
        timeoutMs,
        role: hc.redis?.role ?? 'Primary',
        credentials: named ? credentials?.value : undefined,
        credentialsError: named && credentials?.value === undefined ? (credentials?.error ?? 'credentials not read yet') : undefined,
      },
      intervalMs,
    };
  }
  if (hc.type === 'MySQL') {
    const my = hc.mysql;
    if (my === undefined) throw new InvalidHealthCheckError('healthCheck.mysql is required when type is MySQL');
    return {
      spec: {
        type: 'MySQL',
        timeoutMs,
        role: my.role,
        credentials: credentials?.value,
        credentialsError: credentials?.value === undefined ? (credentials?.error ?? 'credentials not read yet') : undefined,
      },
      intervalMs,
    };
  }
  if (hc.type === 'PostgreSQL') {
    const pgc = hc.postgresql;
    if (pgc === undefined) throw new InvalidHealthCheckError('healthCheck.postgresql is required when type is PostgreSQL');
    return {
      spec: {
        type: 'PostgreSQL',
        timeoutMs,
        role: pgc.role,
        database: pgc.database,
        credentials: credentials?.value,
        credentialsError: credentials?.value === undefined ? (credentials?.error ?? 'credentials not read yet') : undefined,
      },
      intervalMs,
    };
  }
  let expectedStatuses: StatusRange[];
  try {
    expectedStatuses = (hc.http?.expectedStatuses ?? ['200-399']).map(parseStatusRange);
  } catch (err) {
    throw new InvalidHealthCheckError('healthCheck.http.expectedStatuses is invalid', { cause: err });
  }
  const tls =
    hc.type === 'HTTPS'
      ? { serverName: hc.tls?.serverName, insecureSkipVerify: hc.tls?.insecureSkipVerify ?? false, ca: caBundle ?? hc.tls?.caBundle }
      : undefined;
  return { spec: { type: hc.type, timeoutMs, path: hc.http?.path ?? '/', host: hc.http?.host, expectedStatuses, tls }, intervalMs };
}

/**
 * The port probed on `endpoint`: its own healthCheckPort, else healthCheck.port (a number, or the name of an entry of
 * spec.ports), else the first served port. Pure. Throws {@link InvalidHealthCheckError} for an unknown port name.
 */
export function probePortFor(spec: ExternalEndpointsSpec, endpoint: ExternalEndpoint): number {
  if (endpoint.healthCheckPort !== undefined) return endpoint.healthCheckPort;
  const port = spec.healthCheck?.port;
  if (typeof port === 'number') return port;
  if (typeof port === 'string') {
    const named = spec.ports.find((p) => p.name === port);
    if (named === undefined) throw new InvalidHealthCheckError(`healthCheck.port "${port}" names no entry of spec.ports`);
    return named.port;
  }
  const first = spec.ports[0];
  if (first === undefined) throw new InvalidHealthCheckError('spec.ports is empty, so there is no port to probe');
  return first.port;
}
