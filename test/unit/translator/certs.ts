// Certificates for TLS tests, made with openssl once per test file, and the Secrets/ConfigMaps that
// carry them, shaped as the API server (or a manifest) would.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeObject } from '../../../libs/translator/api.ts';

export interface Pem { cert: string; key: string }

/** A CA and leaves it signed, with the given DNS/URI SANs; RSA-2048 (fast enough, as the suite's). */
export function makePki(): { ca: Pem; leaf: (sans: string[]) => Pem; selfSigned: (sans: string[]) => Pem } {
  const dir = mkdtempSync(join(tmpdir(), 'gantry-certs-'));
  let n = 0;
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const read = (key: string, crt: string): Pem => ({ cert: readFileSync(crt, 'utf8'), key: readFileSync(key, 'utf8') });
  const sanExt = (sans: string[]) => `subjectAltName=${sans.map((s) => (s.includes('://') ? `URI:${s}` : `DNS:${s}`)).join(',')}`;
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  {
    const caKey = join(dir, 'ca.key');
    const caCrt = join(dir, 'ca.crt');
    openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', caKey, '-out', caCrt, '-days', '30', '-subj', '/CN=test-ca',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,digitalSignature');
    const ca = read(caKey, caCrt);
    const pki = {
      ca,
      leaf(sans: string[]): Pem {
        n += 1;
        const key = join(dir, `l${n}.key`);
        const csr = join(dir, `l${n}.csr`);
        const crt = join(dir, `l${n}.crt`);
        const ext = join(dir, `l${n}.ext`);
        writeFileSync(ext, `${sanExt(sans)}\n`);
        openssl('req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', csr, '-subj', '/CN=leaf');
        openssl('x509', '-req', '-in', csr, '-CA', caCrt, '-CAkey', caKey, '-set_serial', String(1000 + n),
          '-days', '30', '-extfile', ext, '-out', crt);
        return read(key, crt);
      },
      selfSigned(sans: string[]): Pem {
        n += 1;
        const key = join(dir, `s${n}.key`);
        const crt = join(dir, `s${n}.crt`);
        openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', crt, '-days', '30', '-subj', '/CN=self', '-addext', sanExt(sans));
        return read(key, crt);
      },
    };
    return pki;
  }
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

export function tlsSecret(name: string, pem: Pem, namespace = 'default', type = 'kubernetes.io/tls'): KubeObject {
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace }, type, data: { 'tls.crt': b64(pem.cert), 'tls.key': b64(pem.key) } };
}

export function rawSecret(name: string, data: Record<string, string>, namespace = 'default', type = 'kubernetes.io/tls'): KubeObject {
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace }, type, data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])) };
}

export function caConfigMap(name: string, caPem: string, namespace = 'default'): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace }, data: { 'ca.crt': caPem } };
}
