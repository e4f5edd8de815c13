// Optional HTTPS for the simulator, like the real platform: a throw-away self-signed certificate made
// with the `openssl` CLI (node:crypto cannot issue X.509 certificates), or one the user provides.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface TlsMaterial {
  key: string;
  cert: string;
}

export function opensslAvailable(): boolean {
  return spawnSync('openssl', ['version'], { stdio: 'ignore' }).status === 0;
}

/** A self-signed certificate for 127.0.0.1 and localhost, valid 30 days; throws when openssl is missing. */
export function selfSignedCert(): TlsMaterial {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bindflow-sim-tls-'));
  try {
    const key = path.join(dir, 'key.pem');
    const cert = path.join(dir, 'cert.pem');
    const r = spawnSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '30',
        '-subj',
        '/CN=bindflow-simulator',
        '-addext',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
        '-keyout',
        key,
        '-out',
        cert,
      ],
      { encoding: 'utf8' },
    );
    if (r.error || r.status !== 0) {
      throw new Error(`openssl could not make a certificate: ${r.error?.message ?? r.stderr.trim().split('\n').pop()}`);
    }
    return { key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
