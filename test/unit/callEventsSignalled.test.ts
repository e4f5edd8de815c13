import fc from 'fast-check';
import { SIGNALLED_CALL_EVENTS } from '../../client/webhook';
import { CallBook, type PartyNumbers } from '../../workflows/calls';
import type { CallEvent, ProviderEvent } from '../../workflows/types';

// The webhook spends no signal on the call events that BINDFLOW_CALL_EVENTS leaves out. For `all` that is
// callout and alerting, on the claim that they change nothing an order shows: checked here on the workflow's
// own CallBook, for any sequence of events and records, in any order, with repeats, for any numbers.

const A = '+8613800000001';
const B = '+8613900000002';
const X = '+8675529000001';
const Y = '+8675529000002';
const numbers: PartyNumbers = { partyA: A, parties: [{ label: 'b', number: B, numberY: Y }] };
const time = fc.integer({ min: 0, max: 600 }).map((s) => new Date(Date.UTC(2026, 11, 1, 10, 0, s)).toISOString());

const leg = (callers: string[], called: string[]) => ({
  caller: fc.constantFrom(...callers) as fc.Arbitrary<string>,
  called: fc.constantFrom(...called) as fc.Arbitrary<string>,
});
const firstLeg = leg([A, B, '+8613700000009'], [X, Y]);
const secondLeg = leg([X, Y], [A, B]);
const stateCodes: fc.Arbitrary<number | undefined> = fc.constantFrom(0, 7501, 8101, 8102, 8104, 8030);
const event = (eventType: CallEvent['eventType'], sessionId: string) =>
  fc
    .record({
      timestamp: time,
      ...(eventType === 'callin' || eventType === 'disconnect' ? firstLeg : secondLeg),
      stateCode: eventType === 'disconnect' ? stateCodes : fc.constant(undefined),
    })
    .map((e): ProviderEvent => ({
      kind: 'callEvent',
      dedupKey: `${sessionId}:${eventType}:${e.timestamp}`,
      eventType,
      sessionId,
      subscriptionId: 'sub-1',
      userData: null,
      ...e,
    }));
const record = (sessionId: string) =>
  fc
    .record({
      direction: fc.option(fc.constantFrom(0, 1, 2), { nil: null }),
      callerNum: fc.option(fc.constantFrom(A, B), { nil: null }),
      fwdDstNum: fc.option(fc.constantFrom(A, B), { nil: null }),
      callInTime: fc.option(time, { nil: null }),
      fwdAnswerTime: fc.option(time, { nil: null }),
      callEndTime: fc.option(time, { nil: null }),
      fwdUnaswRsn: fc.option(fc.constantFrom(0, 17, 19, 21), { nil: null }),
      recordFlag: fc.boolean(),
    })
    .map((r): ProviderEvent => ({
      kind: 'callRecord',
      dedupKey: `fee:${sessionId}`,
      recordId: `icid-${sessionId}`,
      sessionId,
      subscriptionId: 'sub-1',
      userData: null,
      calleeNum: X,
      recordDomain: r.recordFlag ? 'records.example' : null,
      recordObjectName: r.recordFlag ? `${sessionId}.wav` : null,
      ...r,
    }));
/**
 * One call's pushes as the platform sends them (callin always among them; any of the others, repeated),
 * for two calls, then shuffled: retried pushes arrive late and out of order.
 */
const call = (sessionId: string) =>
  fc
    .tuple(
      event('callin', sessionId),
      fc.array(
        fc.oneof(
          ...(['callin', 'callout', 'alerting', 'answer', 'disconnect'] as const).map((t) => event(t, sessionId)),
          record(sessionId),
        ),
        { maxLength: 8 },
      ),
    )
    .map(([first, rest]) => [first, ...rest]);
const pushes = fc
  .tuple(call('s1'), call('s2'))
  .chain(([a, b]) => fc.shuffledSubarray([...a, ...b], { minLength: a.length + b.length }));

function replay(events: ProviderEvent[]) {
  const book = new CallBook();
  const effects = events.flatMap((e) => book.apply(e, numbers));
  // A call first seen through a callout (its callin retried later) is listed earlier: same calls, other order.
  const bySession = (a: { sessionId: string }, b: { sessionId: string }) => a.sessionId.localeCompare(b.sessionId);
  return { views: book.views().sort(bySession), effects };
}

const signalled = (mode: 'all' | 'final') => (e: ProviderEvent) =>
  e.kind === 'callRecord' || SIGNALLED_CALL_EVENTS[mode].has(e.eventType);

describe('call events the webhook signals', () => {
  test('all: dropping callout and alerting leaves every view and every effect unchanged', () => {
    expect([...SIGNALLED_CALL_EVENTS.all].sort()).toEqual(['answer', 'callin', 'disconnect']);
    fc.assert(
      fc.property(pushes, (events) => {
        expect(replay(events.filter(signalled('all')))).toEqual(replay(events));
      }),
      { numRuns: 2000 },
    );
  });
});
