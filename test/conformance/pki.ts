// The certificates the upstream suite generates in code before the tests (README: "What the
// upstream suite does around the manifests"), made with openssl once per run: RSA-2048 CAs and
// leaves, SANs as listed there. Node's crypto can make keys but not X.509 certificates.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeObject } from '../../libs/translator/api.ts';

export interface Pem { cert: string; key: string }

export interface SuitePki {
  /** Secret (tls.crt/tls.key) or ConfigMap (ca.crt) name → PEMs, keyed "<namespace>/<name>". */
  secrets: Map<string, Pem>;
  caConfigMaps: Map<string, string>;
}

const INFRA = 'gateway-conformance-infra';
const WEB = 'gateway-conformance-web-backend';
const APP = 'gateway-conformance-app-backend';

class OpenSsl {
  private n = 0;
  private readonly cnf: string;
  constructor(private readonly dir: string) {
    this.cnf = join(dir, 'openssl.cnf');
    writeFileSync(this.cnf, '[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = unused\n');
  }

  private run(...args: string[]): void {
    execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  }

  private files(): { key: string; crt: string; id: number } {
    const id = ++this.n;
    const key = join(this.dir, `k${id}.pem`);
    this.run('genrsa', '-traditional', '-out', key, '2048');
    return { key, crt: join(this.dir, `c${id}.pem`), id };
  }

  private read(f: { key: string; crt: string }): Pem & { files: { key: string; crt: string } } {
    return { cert: readFileSync(f.crt, 'utf8'), key: readFileSync(f.key, 'utf8'), files: f };
  }

  ca() {
    const f = this.files();
    this.run('req', '-x509', '-new', '-key', f.key, '-out', f.crt, '-days', '365', '-config', this.cnf,
      '-subj', '/C=US/O=Kubernetes Gateway API/CN=gatewayapi',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,digitalSignature,keyCertSign');
    return this.read(f);
  }

  leaf(sans: string[], ca?: { files: { key: string; crt: string } }, client = false) {
    const f = this.files();
    const ext = ['basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment',
      `extendedKeyUsage=${client ? 'clientAuth' : 'serverAuth'}`];
    if (sans.length) ext.push(`subjectAltName=${sans.map((s) => (s.includes('://') ? `URI:${s}` : `DNS:${s}`)).join(',')}`);
    const subj = '/O=Acme Co/CN=default';
    if (!ca) {
      this.run('req', '-x509', '-new', '-key', f.key, '-out', f.crt, '-days', '365', '-config', this.cnf, '-subj', subj,
        ...ext.flatMap((e) => ['-addext', e]));
    } else {
      const csr = join(this.dir, `r${f.id}.csr`);
      const extFile = join(this.dir, `e${f.id}.ext`);
      writeFileSync(extFile, `${ext.join('\n')}\n`);
      this.run('req', '-new', '-key', f.key, '-out', csr, '-config', this.cnf, '-subj', subj);
      this.run('x509', '-req', '-in', csr, '-CA', ca.files.crt, '-CAkey', ca.files.key, '-days', '365',
        '-set_serial', String(1000 + f.id), '-extfile', extFile, '-out', f.crt);
    }
    return this.read(f);
  }
}

let cached: SuitePki | undefined;

/** Generated once per process. */
export function suitePki(): SuitePki {
  if (cached) return cached;
  const dir = mkdtempSync(join(tmpdir(), 'gantry-conformance-pki-'));
  try {
    const ssl = new OpenSsl(dir);
    const secrets = new Map<string, Pem>();
    const caConfigMaps = new Map<string, string>();
    const secret = (ns: string, name: string, p: Pem) => secrets.set(`${ns}/${name}`, { cert: p.cert, key: p.key });
    const ca = (ns: string, name: string) => {
      const c = ssl.ca();
      caConfigMaps.set(`${ns}/${name}`, c.cert);
      return c;
    };
    secret(WEB, 'certificate', ssl.leaf(['*']));
    secret(INFRA, 'tls-validity-checks-certificate', ssl.leaf(['*', '*.org', '*.wildcard.org']));
    ca(WEB, 'web-backend-cm');
    const validity = ca(INFRA, 'tls-validity-checks-ca-certificate');
    secret(INFRA, 'tls-validity-checks-client-certificate', ssl.leaf([], validity, true));
    const perPort = ca(INFRA, 'tls-validity-checks-per-port-ca-certificate');
    secret(INFRA, 'tls-validity-checks-per-port-client-certificate', ssl.leaf([], perPort, true));
    const checks = ca(INFRA, 'tls-checks-ca-certificate');
    secret(INFRA, 'tls-checks-certificate', ssl.leaf(['abc.example.com', 'spiffe://abc.example.com/test-identity', 'other.example.com'], checks));
    secret(INFRA, 'tls-checks-client-certificate', ssl.leaf([], checks, true));
    secret(INFRA, 'tls-passthrough-checks-certificate', ssl.leaf(['abc.example.com'], checks));
    secret(APP, 'tls-passthrough-checks-certificate', ssl.leaf(['abc.example.com'], checks));
    secret(INFRA, 'tls-terminate-checks-certificate', ssl.leaf(['tls.example.com'], checks));
    ca(INFRA, 'mismatch-ca-certificate');
    cached = { secrets, caConfigMaps };
    return cached;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The Secrets and ConfigMaps the suite creates in code. */
export function suiteRuntimeObjects(pki: SuitePki): KubeObject[] {
  const split = (k: string) => { const i = k.indexOf('/'); return { namespace: k.slice(0, i), name: k.slice(i + 1) }; };
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  return [
    ...[...pki.secrets].map(([k, p]): KubeObject => ({
      apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/tls', metadata: split(k), data: { 'tls.crt': b64(p.cert), 'tls.key': b64(p.key) },
    })),
    ...[...pki.caConfigMaps].map(([k, cert]): KubeObject => ({
      apiVersion: 'v1', kind: 'ConfigMap', metadata: split(k), data: { 'ca.crt': cert },
    })),
  ];
}
