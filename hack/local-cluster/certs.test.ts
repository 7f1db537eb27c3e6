import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CertificateError, type ControlPlaneCertificates, generateControlPlaneCertificates, servingSubjectAltNames } from './certs.ts';

describe('generateControlPlaneCertificates', () => {
  let dir = '';
  let certs: ControlPlaneCertificates;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'keo-certs-test-'));
    certs = await generateControlPlaneCertificates({ workDir: dir });
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('mints two independent CAs', () => {
    const serving = new X509Certificate(certs.servingCa.certPem);
    const client = new X509Certificate(certs.clientCa.certPem);
    assert.equal(serving.ca, true);
    assert.equal(client.ca, true);
    assert.notEqual(serving.fingerprint256, client.fingerprint256);
    assert.ok(serving.verify(serving.publicKey), 'the serving CA is self-signed');
  });

  it('issues a serving certificate for 127.0.0.1 and localhost signed by the serving CA only', () => {
    const leaf = new X509Certificate(certs.serving.certPem);
    const ca = new X509Certificate(certs.servingCa.certPem);
    assert.equal(leaf.ca, false);
    assert.equal(leaf.checkIP('127.0.0.1'), '127.0.0.1');
    assert.equal(leaf.checkHost('localhost'), 'localhost');
    assert.ok(leaf.checkIssued(ca) && leaf.verify(ca.publicKey));
    assert.equal(leaf.verify(new X509Certificate(certs.clientCa.certPem).publicKey), false);
    assert.deepEqual(leaf.keyUsage, ['1.3.6.1.5.5.7.3.1']);
  });

  it('adds the extra serving names when asked (the kubernetes Service ClusterIP and DNS names)', async () => {
    const extra = await generateControlPlaneCertificates({
      workDir: join(dir, 'extra'),
      extraServingNames: { ips: ['10.0.0.1'], dns: ['kubernetes.default.svc'] },
    });
    const leaf = new X509Certificate(extra.serving.certPem);
    assert.equal(leaf.checkIP('127.0.0.1'), '127.0.0.1');
    assert.equal(leaf.checkIP('10.0.0.1'), '10.0.0.1');
    assert.equal(leaf.checkHost('kubernetes.default.svc'), 'kubernetes.default.svc');
    assert.equal(new X509Certificate(certs.serving.certPem).checkIP('10.0.0.1'), undefined, 'not by default');
    assert.throws(() => servingSubjectAltNames('127.0.0.1', { dns: ['a,IP:1.2.3.4'] }), /invalid subject alternative name/);
  });

  it('issues the admin client certificate as CN=admin in system:masters, signed by the client CA', () => {
    const leaf = new X509Certificate(certs.admin.certPem);
    const ca = new X509Certificate(certs.clientCa.certPem);
    assert.match(leaf.subject, /^CN=admin$/m);
    assert.match(leaf.subject, /^O=system:masters$/m);
    assert.ok(leaf.verify(ca.publicKey));
    assert.deepEqual(leaf.keyUsage, ['1.3.6.1.5.5.7.3.2']);
  });

  it('pairs every certificate with its key and gives a P-256 service-account key pair', () => {
    for (const pair of [certs.servingCa, certs.serving, certs.clientCa, certs.admin]) {
      assert.ok(new X509Certificate(pair.certPem).checkPrivateKey(createPrivateKey(pair.keyPem)));
    }
    const sa = createPrivateKey(certs.serviceAccount.privateKeyPem);
    assert.equal(sa.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.equal(createPublicKey(sa).export({ type: 'spki', format: 'pem' }), certs.serviceAccount.publicKeyPem);
  });

  it('names a missing openssl in one line', async () => {
    await assert.rejects(
      generateControlPlaneCertificates({ workDir: join(dir, 'missing'), openssl: '/nonexistent/openssl' }),
      (err: unknown) => {
        assert.ok(err instanceof CertificateError);
        assert.match(err.message, /^openssl req -x509 failed: \/nonexistent\/openssl not found/);
        return true;
      },
    );
  });
});
