// Goal: no sequence of operator actions, lost messages, garbage and time steps drives a pair
// of sessions into an illegal transition or an exception, and whenever both are logged on and
// the link is quiet their sequence numbers agree. Method: fast-check commands over two sessions
// joined by a pumped in-memory link, with a hand-stepped clock.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ascii } from './encoder.ts';
import { MemoryLink } from './memory-transport.ts';
import { MsgType } from './msg-type.ts';
import { SessionState } from './session-state.ts';
import { FixSession, SessionRole } from './session.ts';
import { Tag } from './tags.ts';
import { FakeClock, RecordingApp } from './test-util.ts';

type Op =
  | { k: 'sendI' }
  | { k: 'sendA' }
  | { k: 'dropI' }
  | { k: 'dropA' }
  | { k: 'garbage'; bytes: Uint8Array }
  | { k: 'time'; ms: number }
  | { k: 'logout' }
  | { k: 'drop' }
  | { k: 'reconnect' };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.constant({ k: 'sendI' } as Op) },
  { weight: 4, arbitrary: fc.constant({ k: 'sendA' } as Op) },
  fc.constant({ k: 'dropI' } as Op),
  fc.constant({ k: 'dropA' } as Op),
  fc.uint8Array({ maxLength: 40 }).map((bytes) => ({ k: 'garbage', bytes }) as Op),
  fc.integer({ min: 1, max: 40_000 }).map((ms) => ({ k: 'time', ms }) as Op),
  fc.constant({ k: 'logout' } as Op),
  fc.constant({ k: 'drop' } as Op),
  { weight: 2, arbitrary: fc.constant({ k: 'reconnect' } as Op) },
);

describe('session pair properties', () => {
  it('never throws; sequence numbers agree whenever both sides are logged on and quiet', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.array(op, { maxLength: 60 }), (reset, ops) => {
        const clock = new FakeClock();
        const i = new FixSession({ role: SessionRole.INITIATOR, senderCompId: 'OMS', targetCompId: 'V1', clock, app: new RecordingApp(), heartBtIntSec: 10, resetSeqNumOnLogon: reset });
        const a = new FixSession({ role: SessionRole.ACCEPTOR, senderCompId: 'V1', targetCompId: 'OMS', clock, app: new RecordingApp() });
        let link = new MemoryLink(i, a);
        link.connect();
        link.pump();
        for (const o of ops) {
          switch (o.k) {
            case 'sendI':
              i.beginApp(MsgType.NEW_ORDER_SINGLE).addAscii(Tag.ClOrdID, ascii('X'));
              i.sendApp();
              break;
            case 'sendA':
              a.beginApp(MsgType.EXECUTION_REPORT).addAscii(Tag.ClOrdID, ascii('X'));
              a.sendApp();
              break;
            case 'dropI': // the network loses an order
              i.beginApp(MsgType.NEW_ORDER_SINGLE).addAscii(Tag.ClOrdID, ascii('LOST'));
              i.sendApp();
              link.aToB.take();
              break;
            case 'dropA': // the network loses a report
              a.beginApp(MsgType.EXECUTION_REPORT).addAscii(Tag.ClOrdID, ascii('LOST'));
              a.sendApp();
              link.bToA.take();
              break;
            case 'garbage':
              a.onBytes(o.bytes);
              break;
            case 'time':
              clock.t += o.ms;
              i.onTimer(clock.t);
              a.onTimer(clock.t);
              break;
            case 'logout':
              i.logout();
              break;
            case 'drop':
              i.disconnect('test');
              break;
            case 'reconnect':
              if (i.state === SessionState.DISCONNECTED && a.state === SessionState.DISCONNECTED) {
                link = new MemoryLink(i, a);
                link.connect();
              }
              break;
          }
          link.pump();
          // A drop or a close on one side reaches the other through the link.
          if (i.state === SessionState.DISCONNECTED && a.state !== SessionState.DISCONNECTED) a.disconnect('peer gone');
          if (i.state === SessionState.ACTIVE && a.state === SessionState.ACTIVE) {
            // A receiver never runs ahead of its sender (a loss shows up at the next message).
            expect(a.nextTargetSeqNum).toBeLessThanOrEqual(i.nextSenderSeqNum);
            expect(i.nextTargetSeqNum).toBeLessThanOrEqual(a.nextSenderSeqNum);
          }
        }
        if (i.state === SessionState.ACTIVE && a.state === SessionState.ACTIVE) {
          // One more message each way reveals any loss; gap recovery then lines the numbers up.
          i.beginApp(MsgType.NEW_ORDER_SINGLE).addAscii(Tag.ClOrdID, ascii('SYNC'));
          i.sendApp();
          a.beginApp(MsgType.EXECUTION_REPORT).addAscii(Tag.ClOrdID, ascii('SYNC'));
          a.sendApp();
          link.pump();
          expect(a.nextTargetSeqNum).toBe(i.nextSenderSeqNum);
          expect(i.nextTargetSeqNum).toBe(a.nextSenderSeqNum);
        }
      }),
      { seed: 424242, numRuns: 400 },
    );
  });
});
