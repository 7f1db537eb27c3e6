import { Resolver } from 'node:dns/promises';
import { formatIP, parseIP } from '../../../api/v1alpha1/ip-address.ts';
import type { Clock } from '../../runtime/clock.ts';

// dnsName backends become IP endpoints (kube-proxy ignores FQDN slices). The lookups are the injected I/O
// (DnsLookup); what to keep and when to look again is the pure mergeResolution, so TTL handling is table-tested.
//
// - Per-IP TTLs: every address remembers when it expires. An address missing from one answer stays until its own
//   TTL runs out, because round-robin servers return subsets and one record expiring says nothing about the others.
// - Refresh at the earliest expiry, clamped to [minRefreshSeconds, maxRefreshSeconds]; a name with no records at
//   all is looked at again after maxRefreshSeconds (the analogue of negative caching).
// - Failures keep the last good addresses of the failed family, even past their TTL (a resolver outage must not
//   empty the Service), carry the error for a status condition, and retry with exponential backoff from
//   minRefreshSeconds up to maxRefreshSeconds. NXDOMAIN is a failure too: a DNS misconfiguration is far more common
//   than a backend deliberately withdrawn by deleting its name.

/** One record as the server sent it. */
export interface DnsAnswer {
  readonly address: string;
  readonly ttl: number;
}

/** Why a lookup failed. NoData (the name exists without records of the type) is not a failure: it is an empty answer. */
export type DnsErrorReason = 'NXDOMAIN' | 'ServerFailure' | 'Refused' | 'Timeout' | 'Unreachable' | 'Cancelled' | 'Error';

/** A failed lookup. `code` is node's (ENOTFOUND, ESERVFAIL, ...). */
export class DnsLookupError extends Error {
  override readonly name = 'DnsLookupError';
  readonly reason: DnsErrorReason;
  readonly code: string | undefined;

  constructor(reason: DnsErrorReason, message: string, options: { cause?: unknown; code?: string | undefined } = {}) {
    super(message, { cause: options.cause });
    this.reason = reason;
    this.code = options.code;
  }
}

/** The I/O: A and AAAA lookups with TTLs. Rejects with {@link DnsLookupError}; resolves [] for NoData. */
export interface DnsLookup {
  resolve4(name: string, signal: AbortSignal): Promise<readonly DnsAnswer[]>;
  resolve6(name: string, signal: AbortSignal): Promise<readonly DnsAnswer[]>;
}

/** Options of {@link NodeDnsLookup}. */
export interface NodeDnsLookupOptions {
  /** Servers as `ip` or `ip:port`. Default: the system's (/etc/resolv.conf). */
  readonly servers?: readonly string[];
  /** Milliseconds per try. Default 2000. */
  readonly timeoutMs?: number;
  /** Tries per server. Default 2. */
  readonly tries?: number;
}

const REASON_BY_CODE: Record<string, DnsErrorReason> = {
  ENOTFOUND: 'NXDOMAIN',
  ESERVFAIL: 'ServerFailure',
  EREFUSED: 'Refused',
  ETIMEOUT: 'Timeout',
  ECONNREFUSED: 'Unreachable',
  ECANCELLED: 'Cancelled',
};

const WORDS: Record<DnsErrorReason, string> = {
  NXDOMAIN: 'does not exist (NXDOMAIN)',
  ServerFailure: 'could not be resolved: the DNS server failed (SERVFAIL)',
  Refused: 'could not be resolved: the DNS server refused the query',
  Timeout: 'could not be resolved: the DNS server did not answer in time',
  Unreachable: 'could not be resolved: the DNS server is unreachable',
  Cancelled: 'was not resolved: the lookup was cancelled',
  Error: 'could not be resolved',
};

/**
 * The production {@link DnsLookup} over node:dns (c-ares), bypassing getaddrinfo so TTLs are known. A new Resolver per
 * lookup, so cancelling one (`signal`) cancels nothing else. Safe to share.
 */
export class NodeDnsLookup implements DnsLookup {
  readonly #options: NodeDnsLookupOptions;

  constructor(options: NodeDnsLookupOptions = {}) {
    this.#options = options;
  }

  resolve4(name: string, signal: AbortSignal): Promise<readonly DnsAnswer[]> {
    return this.#lookup(name, 'A', signal, (r) => r.resolve4(name, { ttl: true }));
  }

  resolve6(name: string, signal: AbortSignal): Promise<readonly DnsAnswer[]> {
    return this.#lookup(name, 'AAAA', signal, (r) => r.resolve6(name, { ttl: true }));
  }

  async #lookup(name: string, type: string, signal: AbortSignal, run: (r: Resolver) => Promise<DnsAnswer[]>): Promise<DnsAnswer[]> {
    if (signal.aborted) throw new DnsLookupError('Cancelled', `${name} ${WORDS.Cancelled}`);
    const resolver = new Resolver({ timeout: this.#options.timeoutMs ?? 2000, tries: this.#options.tries ?? 2 });
    if (this.#options.servers !== undefined) resolver.setServers([...this.#options.servers]);
    const onAbort = () => resolver.cancel();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      return await run(resolver);
    } catch (err) {
      const code = typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
      if (code === 'ENODATA') return [];
      const reason = (code === undefined ? undefined : REASON_BY_CODE[code]) ?? 'Error';
      throw new DnsLookupError(reason, `${name} (${type}) ${WORDS[reason]}${reason === 'Error' ? `: ${String(code ?? err)}` : ''}`, {
        cause: err,
        code,
      });
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }
}

// ---- state ------------------------------------------------------------------------------------------------------------

/** An address of a name and when its record expires (epoch ms). */
export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
  readonly ttlSeconds: number;
  readonly expiresAt: number;
}

/** A failed lookup of one family, kept for the DNSResolved condition. */
export interface DnsFailure {
  readonly family: 4 | 6;
  readonly reason: DnsErrorReason;
  readonly message: string;
}

/** Everything known about one name. `addresses` is sorted (IPv4 first, then by text) so equal sets compare equal. */
export interface NameResolution {
  readonly name: string;
  readonly addresses: readonly ResolvedAddress[];
  /** Failures of the last attempt; empty when both families answered. Addresses of a failed family are last-known-good. */
  readonly errors: readonly DnsFailure[];
  /** Attempts in a row with at least one failure (drives the backoff). */
  readonly consecutiveFailures: number;
  readonly attemptedAt: number;
  /** The last attempt at which at least one family answered. */
  readonly resolvedAt?: number | undefined;
  readonly nextRefreshAt: number;
}

/** Bounds of re-resolution, from spec.dns. */
export interface RefreshBounds {
  readonly minRefreshSeconds: number;
  readonly maxRefreshSeconds: number;
}

/** The outcome of one family's lookup. */
export type FamilyOutcome =
  { readonly ok: true; readonly answers: readonly DnsAnswer[] } | { readonly ok: false; readonly error: DnsLookupError };

function clamp(ms: number, bounds: RefreshBounds): number {
  return Math.min(bounds.maxRefreshSeconds * 1000, Math.max(bounds.minRefreshSeconds * 1000, ms));
}

function byAddress(a: ResolvedAddress, b: ResolvedAddress): number {
  return a.family - b.family || (a.address < b.address ? -1 : a.address > b.address ? 1 : 0);
}

// Canonical text, the right family only (an IPv4-mapped AAAA answer is dropped: it is no valid endpoint address),
// one entry per address with the longest TTL the answer gave it.
function freshAddresses(answers: readonly DnsAnswer[], family: 4 | 6, now: number): Map<string, ResolvedAddress> {
  const out = new Map<string, ResolvedAddress>();
  for (const a of answers) {
    const ip = parseIP(a.address);
    if (ip === undefined || ip.family !== family) continue;
    const address = formatIP(ip);
    const ttlSeconds = Math.max(0, Math.floor(a.ttl));
    const prev = out.get(address);
    if (prev === undefined || prev.ttlSeconds < ttlSeconds)
      out.set(address, { address, family, ttlSeconds, expiresAt: now + ttlSeconds * 1000 });
  }
  return out;
}

/**
 * Folds one attempt (the A and AAAA outcomes, finished at `now`) into what is known about `name`. Pure; `prev` is
 * the previous result or undefined for a name never resolved.
 */
export function mergeResolution(
  name: string,
  prev: NameResolution | undefined,
  outcomes: { readonly v4: FamilyOutcome; readonly v6: FamilyOutcome },
  now: number,
  bounds: RefreshBounds,
): NameResolution {
  const addresses: ResolvedAddress[] = [];
  const errors: DnsFailure[] = [];
  const delays: number[] = [];
  const failures = (prev?.consecutiveFailures ?? 0) + 1;
  for (const family of [4, 6] as const) {
    const outcome = family === 4 ? outcomes.v4 : outcomes.v6;
    const previous = (prev?.addresses ?? []).filter((a) => a.family === family);
    if (!outcome.ok) {
      errors.push({ family, reason: outcome.error.reason, message: outcome.error.message });
      addresses.push(...previous);
      continue;
    }
    const fresh = freshAddresses(outcome.answers, family, now);
    const kept = previous.filter((a) => !fresh.has(a.address) && a.expiresAt > now);
    addresses.push(...fresh.values(), ...kept);
  }
  if (errors.length > 0) {
    delays.push(Math.min(bounds.maxRefreshSeconds * 1000, bounds.minRefreshSeconds * 1000 * 2 ** Math.min(failures - 1, 30)));
  }
  const answered = addresses.filter((a) => errors.every((e) => e.family !== a.family));
  if (answered.length > 0) delays.push(Math.min(...answered.map((a) => a.expiresAt - now)));
  if (delays.length === 0) delays.push(bounds.maxRefreshSeconds * 1000);
  const resolvedSomething = errors.length < 2;
  return {
    name,
    addresses: addresses.sort(byAddress),
    errors,
    consecutiveFailures: errors.length > 0 ? failures : 0,
    attemptedAt: now,
    resolvedAt: resolvedSomething ? now : prev?.resolvedAt,
    nextRefreshAt: now + clamp(Math.min(...delays), bounds),
  };
}

/** Options of {@link DnsResolver}. */
export interface DnsResolverOptions {
  readonly lookup: DnsLookup;
  readonly clock: Clock;
}

/** Resolves names with {@link DnsLookup} and folds the answers with {@link mergeResolution}. Safe to share. */
export class DnsResolver {
  readonly #lookup: DnsLookup;
  readonly #clock: Clock;

  constructor(options: DnsResolverOptions) {
    this.#lookup = options.lookup;
    this.#clock = options.clock;
  }

  /**
   * Looks up A and AAAA of `name` in parallel and returns the new state. Never rejects: failures are in `errors`.
   * When `signal` aborts, outstanding lookups are cancelled and `prev` is returned unchanged (or a Cancelled state
   * for a name never resolved), since a cancellation says nothing about the name.
   */
  async resolve(name: string, prev: NameResolution | undefined, bounds: RefreshBounds, signal: AbortSignal): Promise<NameResolution> {
    const settle = async (p: Promise<readonly DnsAnswer[]>): Promise<FamilyOutcome> => {
      try {
        return { ok: true, answers: await p };
      } catch (err) {
        const error = err instanceof DnsLookupError ? err : new DnsLookupError('Error', `${name} ${WORDS.Error}`, { cause: err });
        return { ok: false, error };
      }
    };
    const [v4, v6] = await Promise.all([settle(this.#lookup.resolve4(name, signal)), settle(this.#lookup.resolve6(name, signal))]);
    if (signal.aborted && prev !== undefined) return prev;
    return mergeResolution(name, prev, { v4, v6 }, this.#clock.now(), bounds);
  }
}
