import { z } from 'zod';

// Kubernetes name and label formats as zod schemas. Every pattern here is also compiled by the API server (Go RE2), so
// they use only what both engines share: character classes, groups, alternation, bounded repetition; no look-around,
// no back-references. Lengths are separate checks (maxLength) because that is how the API server reports them best.

/** RFC 1123 label: lowercase alphanumerics and '-', starting and ending alphanumeric, at most 63 characters. */
export const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** RFC 1123 subdomain: dot-separated RFC 1123 labels, at most 253 characters. */
export const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** Label value: empty, or alphanumerics with '-', '_' and '.' inside, at most 63 characters. */
export const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
/**
 * Qualified name (label key): an optional RFC 1123 subdomain prefix and '/', then a name of 1..63 alphanumerics with
 * '-', '_' and '.' inside. The prefix's 253-character limit is checked separately.
 */
export const QUALIFIED_NAME =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
/** Longest qualified name: a 253-character prefix, '/', and a 63-character name. */
export const QUALIFIED_NAME_MAX_LENGTH = 317;

/** An RFC 1123 label field (port names, endpoint hostnames). */
export const dns1123LabelSchema = z
  .string()
  .max(63, 'must be no more than 63 characters')
  .regex(DNS1123_LABEL, 'must be an RFC 1123 label: lowercase alphanumerics or "-", starting and ending with an alphanumeric');

/** An RFC 1123 subdomain field (DNS names, node names, TLS server names). */
export const dns1123SubdomainSchema = z
  .string()
  .max(253, 'must be no more than 253 characters')
  .regex(
    DNS1123_SUBDOMAIN,
    'must be an RFC 1123 subdomain: lowercase alphanumerics, "-" or ".", each part starting and ending with an alphanumeric',
  );

/** A label value field. */
export const labelValueSchema = z
  .string()
  .max(63, 'must be no more than 63 characters')
  .regex(LABEL_VALUE, 'must be empty or alphanumerics with "-", "_" or "." inside, starting and ending with an alphanumeric');

/** True when `key` is a valid label key (qualified name), prefix length included. */
export function isQualifiedName(key: string): boolean {
  if (key.length > QUALIFIED_NAME_MAX_LENGTH || !QUALIFIED_NAME.test(key)) return false;
  const slash = key.indexOf('/');
  return slash <= 253;
}

/** Message for an invalid label key, shared by the zod check and the CEL rule. */
export const QUALIFIED_NAME_MESSAGE =
  'must be a label key: an optional DNS subdomain prefix and "/", then 1-63 alphanumerics with "-", "_" or "." inside';
