import net from 'node:net';

/** A port that is free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, host, () => srv.close(() => resolve(true)));
  });
}

/** Throws a clear message naming every port of `wanted` that is already taken. */
export async function assertPortsFree(wanted: Record<string, number>): Promise<void> {
  const taken: string[] = [];
  for (const [what, port] of Object.entries(wanted)) {
    if (!(await isPortFree(port))) taken.push(`${what} port ${port}`);
  }
  if (taken.length) {
    throw new PortInUseError(
      `Cannot start: ${taken.join(', ')} ${taken.length > 1 ? 'are' : 'is'} already in use. ` +
        'Stop the process using it (`ss -ltnp` shows it) or choose other ports (see README: Configuration).',
    );
  }
}

export class PortInUseError extends Error {
  override name = 'PortInUseError';
}

export function waitForTcp(
  port: number,
  host: string,
  timeoutMs: number,
  isAlive: () => boolean = () => true,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const sock = net.connect(port, host);
      sock.once('connect', () => {
        sock.destroy();
        resolve();
      });
      sock.once('error', () => {
        sock.destroy();
        if (!isAlive()) return reject(new Error(`process exited before ${host}:${port} accepted connections`));
        if (Date.now() > deadline)
          return reject(new Error(`${host}:${port} did not accept connections within ${timeoutMs} ms`));
        setTimeout(attempt, 100);
      });
    };
    attempt();
  });
}
