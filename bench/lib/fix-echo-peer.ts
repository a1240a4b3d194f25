/**
 * The FIX benchmark's floor: a process that writes every byte it receives straight back on the
 * same TCP connection (Nagle off). Timed beside the real FIX session round trip, it shows what
 * loopback TCP and two Node event loops cost on this machine before any FIX work is done.
 *
 *     node bench/lib/fix-echo-peer.ts     prints "echo listening on 127.0.0.1:PORT", exits when
 *                                         its standard input closes (so it dies with the bench)
 */

import * as net from 'node:net';

const server = net.createServer({ noDelay: true }, (socket) => {
  socket.on('data', (chunk: Buffer) => socket.write(chunk));
  socket.on('error', () => socket.destroy());
});
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as net.AddressInfo;
  process.stdout.write(`echo listening on 127.0.0.1:${port}\n`);
});
process.stdin.on('end', () => process.exit(0));
process.stdin.on('close', () => process.exit(0));
process.stdin.resume();
