// Certificates for the xDS mTLS tests, made with openssl (Node's crypto cannot make X.509
// certificates): one CA, a server certificate for 127.0.0.1/localhost, and client certificates
// with the SANs a test asks for.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Leaf { cert: string; key: string; certPath: string; keyPath: string }

export class TestPki {
  readonly dir = mkdtempSync(join(tmpdir(), 'gantry-xds-pki-'));
  private n = 0;
  readonly caPath: string;
  readonly ca: string;

  constructor() {
    this.caPath = join(this.dir, 'ca.crt');
    this.openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
      '-subj', '/CN=gantry test CA', '-keyout', join(this.dir, 'ca.key'), '-out', this.caPath);
    this.ca = readFileSync(this.caPath, 'utf8');
  }

  private openssl(...args: string[]): void {
    execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  }

  /** A certificate signed by the CA, with `subjectAltName` as openssl writes it ("URI:…,DNS:…"). */
  leaf(cn: string, subjectAltName: string, signer: { certPath: string; keyPath: string } = { certPath: this.caPath, keyPath: join(this.dir, 'ca.key') }): Leaf {
    const base = join(this.dir, `leaf-${++this.n}`);
    const ext = `${base}.ext`;
    writeFileSync(ext, `subjectAltName=${subjectAltName}\nextendedKeyUsage=serverAuth,clientAuth\n`);
    this.openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', `/CN=${cn}`,
      '-keyout', `${base}.key`, '-out', `${base}.csr`);
    this.openssl('x509', '-req', '-in', `${base}.csr`, '-CA', signer.certPath, '-CAkey', signer.keyPath, '-CAcreateserial',
      '-days', '2', '-extfile', ext, '-out', `${base}.crt`);
    return { cert: readFileSync(`${base}.crt`, 'utf8'), key: readFileSync(`${base}.key`, 'utf8'), certPath: `${base}.crt`, keyPath: `${base}.key` };
  }

  /** Another CA, to make certificates the server must not trust. */
  otherCa(): { certPath: string; keyPath: string } {
    const certPath = join(this.dir, 'other-ca.crt');
    const keyPath = join(this.dir, 'other-ca.key');
    this.openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
      '-subj', '/CN=untrusted CA', '-keyout', keyPath, '-out', certPath);
    return { certPath, keyPath };
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
