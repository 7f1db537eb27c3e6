import { PROBE_CREDENTIALS_LABEL } from '../../api/v1alpha1/external-endpoints.ts';
import type { ProbeCredentials } from './probe/prober.ts';

// Credentials of database checks, from one Secret in the object's namespace, read by name on demand (no watch, no
// list: the operator never holds other Secrets). A Secret must opt in with the PROBE_CREDENTIALS_LABEL label: without
// it, a user allowed to create ExternalEndpoints but not to read Secrets could point a check at a server of their own
// and receive a password they cannot read (the confused deputy of CVE-2021-25740). Values never appear in messages.

/** The parts of a Secret we read. */
export interface SecretLike {
  readonly metadata?: { readonly labels?: Readonly<Record<string, string>> | undefined } | undefined;
  readonly data?: Readonly<Record<string, string>> | undefined;
}

/** spec.healthCheck.*.credentialsSecretRef. */
export interface CredentialsRef {
  readonly name: string;
  readonly usernameKey: string;
  readonly passwordKey: string;
}

/** Credentials, or why there are none (a sentence for status and Events, naming the Secret and key, never a value). */
export type CredentialsResult =
  { readonly value: ProbeCredentials; readonly error?: undefined } | { readonly value?: undefined; readonly error: string };

function decode(b64: string): string {
  return Buffer.from(b64, 'base64').toString('utf8');
}

/** The credentials `ref` names in `secret` (undefined: the Secret does not exist). Pure. */
export function credentialsFromSecret(namespace: string, ref: CredentialsRef, secret: SecretLike | undefined): CredentialsResult {
  const where = `Secret ${namespace}/${ref.name}`;
  if (secret === undefined) return { error: `${where} not found` };
  if (secret.metadata?.labels?.[PROBE_CREDENTIALS_LABEL] !== 'true') {
    return { error: `${where} is not labelled ${PROBE_CREDENTIALS_LABEL}: "true", so it is not used for probing` };
  }
  const user = secret.data?.[ref.usernameKey];
  const password = secret.data?.[ref.passwordKey];
  const missing = [user === undefined ? ref.usernameKey : undefined, password === undefined ? ref.passwordKey : undefined].filter(
    (k): k is string => k !== undefined,
  );
  if (user === undefined || password === undefined) return { error: `${where} has no key ${missing.map((k) => `"${k}"`).join(' or ')}` };
  return { value: { username: decode(user), password: decode(password) } };
}
