import net from 'node:net';
import { assertPortsFree, freePort, PortInUseError } from '../../lib/ports';

describe('port checks', () => {
  test('an occupied port gives a clear message naming what needed it', async () => {
    const srv = net.createServer().listen(0, '127.0.0.1');
    await new Promise((r) => srv.once('listening', r));
    const port = (srv.address() as net.AddressInfo).port;
    const other = await freePort();
    try {
      await expect(assertPortsFree({ 'Temporal Web UI': port, API: other })).rejects.toThrow(PortInUseError);
      await expect(assertPortsFree({ 'Temporal Web UI': port })).rejects.toThrow(
        new RegExp(`Temporal Web UI port ${port} is already in use`),
      );
      await expect(assertPortsFree({ API: other })).resolves.toBeUndefined();
    } finally {
      srv.close();
    }
  });
});
