/**
 * A parent process for scripts/venue-lifeline.e2e.test.ts: starts one venue simulator as
 * scripts/stack.ts starts them, prints "venue <pid> <port>", and stays until it is killed.
 */
import { startVenue } from './stack.ts';

const v = await startVenue(['--port', '0', '--name', 'V1'], 'V1');
process.stdout.write(`venue ${v.child.pid} ${v.port}\n`);
setInterval(() => {}, 1 << 30);
