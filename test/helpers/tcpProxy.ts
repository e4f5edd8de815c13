import net from 'node:net';

/** A loopback TCP proxy that can be cut and restored: "Temporal unreachable" without stopping Temporal. */
export async function startTcpProxy(targetAddress: string) {
  const [host, port] = [targetAddress.split(':')[0], Number(targetAddress.split(':')[1])];
  const sockets = new Set<net.Socket>();
  let enabled = true;
  const server = net.createServer((client) => {
    if (!enabled) return void client.destroy();
    const upstream = net.connect(port, host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  return {
    address,
    cut() {
      enabled = false;
      for (const s of sockets) s.destroy();
    },
    restore() {
      enabled = true;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
