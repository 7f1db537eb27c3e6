import { execFile } from 'node:child_process';
import { generateKeyPair, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

// The certificates a local API server needs, shaped like envtest's: three independent authorities (serving, service
// account signing, client auth), ECDSA P-256 keys in PKCS#8 PEM, one week of validity. Keys come from node:crypto;
// certificates are signed by the `openssl` CLI (present on every Debian machine) so the project needs no X.509
// library. A private openssl config is used so the system's openssl.cnf cannot add or duplicate extensions.

const execFileAsync = promisify(execFile);

/** A certificate and its private key, PEM. */
export interface CertificatePair {
  readonly certPem: string;
  readonly keyPem: string;
}

/** Everything minted for one cluster. */
export interface ControlPlaneCertificates {
  /** Signs the API server's serving certificate; what clients put in `certificate-authority-data`. */
  readonly servingCa: CertificatePair;
  /** The API server's serving certificate: CN localhost, SANs DNS:localhost and IP:<host>. */
  readonly serving: CertificatePair;
  /** Signs client certificates; the API server's `--client-ca-file`. */
  readonly clientCa: CertificatePair;
  /** CN=admin, O=system:masters: bypasses RBAC. */
  readonly admin: CertificatePair;
  /** The service-account token signing key pair (PKCS#8 private key, SPKI public key). */
  readonly serviceAccount: { readonly publicKeyPem: string; readonly privateKeyPem: string };
}

/** Inputs of {@link generateControlPlaneCertificates}. */
export interface CertificateOptions {
  /** Scratch directory for keys, CSRs and the openssl config; created if missing. */
  readonly workDir: string;
  /** The openssl executable. Default `openssl` from PATH. */
  readonly openssl?: string;
  /** Default 7 days, as envtest. */
  readonly validityDays?: number;
  /** IP SAN of the serving certificate. Default 127.0.0.1. */
  readonly host?: string;
  /** More SANs of the serving certificate (the `kubernetes` Service's ClusterIP and names, for in-cluster clients). */
  readonly extraServingNames?: { readonly ips?: readonly string[]; readonly dns?: readonly string[] };
}

/** Thrown when openssl is missing or refuses a command; the message names the command and its stderr. */
export class CertificateError extends Error {
  override readonly name = 'CertificateError';
}

/** Mints a fresh set of control-plane certificates. Takes about 10 openssl runs' time (tens of ms). */
export async function generateControlPlaneCertificates(opts: CertificateOptions): Promise<ControlPlaneCertificates> {
  await mkdir(opts.workDir, { recursive: true });
  const config = join(opts.workDir, 'openssl.cnf');
  await writeFile(config, opensslConfig(servingSubjectAltNames(opts.host ?? '127.0.0.1', opts.extraServingNames)));
  const ctx: SigningContext = { dir: opts.workDir, openssl: opts.openssl ?? 'openssl', config, days: String(opts.validityDays ?? 7) };

  const [servingCa, clientCa] = await Promise.all([
    selfSignedCa(ctx, 'serving-ca', '/O=kube-endpoints-operator/CN=local-cluster-serving-ca'),
    selfSignedCa(ctx, 'client-ca', '/O=kube-endpoints-operator/CN=local-cluster-client-ca'),
  ]);
  const [serving, admin, serviceAccount] = await Promise.all([
    signedLeaf(ctx, 'serving', '/CN=localhost', 'serving_ext', servingCa),
    signedLeaf(ctx, 'admin', '/O=system:masters/CN=admin', 'client_ext', clientCa),
    newKeyPair(),
  ]);
  return {
    servingCa,
    serving,
    clientCa,
    admin,
    serviceAccount: { publicKeyPem: serviceAccount.publicKey, privateKeyPem: serviceAccount.privateKey },
  };
}

interface SigningContext {
  readonly dir: string;
  readonly openssl: string;
  readonly config: string;
  readonly days: string;
}

/** The serving certificate's subjectAltName value: localhost and `host`, then the extra names. Pure. */
export function servingSubjectAltNames(host: string, extra: CertificateOptions['extraServingNames']): string {
  const valid = (name: string) => /^[A-Za-z0-9.:-]+$/.test(name);
  const names = [`DNS:localhost`, `IP:${host}`, ...(extra?.dns ?? []).map((d) => `DNS:${d}`), ...(extra?.ips ?? []).map((i) => `IP:${i}`)];
  for (const n of names) if (!valid(n.slice(n.indexOf(':') + 1))) throw new CertificateError(`invalid subject alternative name ${n}`);
  return names.join(',');
}

function opensslConfig(subjectAltName: string): string {
  return `[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,digitalSignature,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[serving_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = ${subjectAltName}
authorityKeyIdentifier = keyid
[client_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
authorityKeyIdentifier = keyid
`;
}

async function selfSignedCa(ctx: SigningContext, name: string, subject: string): Promise<CertificatePair> {
  const key = await writeNewKey(ctx, name);
  const crt = join(ctx.dir, `${name}.crt`);
  await runOpenssl(
    ctx,
    ['req', '-x509', '-new', '-sha256', '-key', key.path, '-subj', subject, '-days', ctx.days, '-set_serial', serial()].concat([
      '-config',
      ctx.config,
      '-extensions',
      'ca_ext',
      '-out',
      crt,
    ]),
  );
  return { certPem: await readFile(crt, 'utf8'), keyPem: key.pem };
}

async function signedLeaf(
  ctx: SigningContext,
  name: string,
  subject: string,
  extensions: string,
  issuer: CertificatePair,
): Promise<CertificatePair> {
  const key = await writeNewKey(ctx, name);
  const csr = join(ctx.dir, `${name}.csr`);
  const crt = join(ctx.dir, `${name}.crt`);
  // The issuer's files were written under its own name by selfSignedCa; write them again under ours so the two
  // leaves signed in parallel never depend on each other's file names.
  const issuerCrt = join(ctx.dir, `${name}.issuer.crt`);
  const issuerKey = join(ctx.dir, `${name}.issuer.key`);
  await Promise.all([writeFile(issuerCrt, issuer.certPem), writeFile(issuerKey, issuer.keyPem, { mode: 0o600 })]);
  await runOpenssl(ctx, ['req', '-new', '-sha256', '-key', key.path, '-subj', subject, '-config', ctx.config, '-out', csr]);
  await runOpenssl(
    ctx,
    ['x509', '-req', '-sha256', '-in', csr, '-CA', issuerCrt, '-CAkey', issuerKey, '-set_serial', serial()].concat([
      '-days',
      ctx.days,
      '-extfile',
      ctx.config,
      '-extensions',
      extensions,
      '-out',
      crt,
    ]),
  );
  return { certPem: await readFile(crt, 'utf8'), keyPem: key.pem };
}

async function writeNewKey(ctx: SigningContext, name: string): Promise<{ path: string; pem: string }> {
  const { privateKey } = await newKeyPair();
  const path = join(ctx.dir, `${name}.key`);
  await writeFile(path, privateKey, { mode: 0o600 });
  return { path, pem: privateKey };
}

function newKeyPair(): Promise<{ publicKey: string; privateKey: string }> {
  return new Promise((resolve, reject) => {
    generateKeyPair(
      'ec',
      { namedCurve: 'P-256', publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } },
      (err, publicKey, privateKey) => (err === null ? resolve({ publicKey, privateKey }) : reject(err)),
    );
  });
}

/** A random positive 64-bit serial: unique enough that no two certificates of one issuer share one. */
function serial(): string {
  const bytes = randomBytes(8);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return `0x${bytes.toString('hex')}`;
}

async function runOpenssl(ctx: SigningContext, args: string[]): Promise<void> {
  try {
    await execFileAsync(ctx.openssl, args, { cwd: ctx.dir, timeout: 30_000 });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    const detail = e.code === 'ENOENT' ? `${ctx.openssl} not found (install openssl)` : (e.stderr ?? e.message).trim().split('\n')[0];
    throw new CertificateError(`openssl ${args[0]} ${args[1]} failed: ${detail}`, { cause: err });
  }
}
