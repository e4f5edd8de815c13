import fc from 'fast-check';
import { CallBook, MAX_CALLS_KEPT } from '../../workflows/calls';
import { providerEventsFromPush, providerTimeToIso } from '../../workflows/providerEvents';
import {
  OrderBindingInputSchema,
  PROVIDER_MAX_DURATION_SECONDS,
  SAFETY_MARGIN_SECONDS,
  effectiveMaxExtensionSeconds,
  providerDurationSeconds,
} from '../../workflows/types';
import { makeUserData, orderIdFromUserData } from '../../workflows/userData';
import { currentDetails, searchAttributeUpdates, toSummary, type BindingRecord } from '../../workflows/state';

// The workflow's pure parts: input validation, userData, push mapping and call merging.

const A = '+8613800000001';
const B = '+8613800000002';
const base = {
  orderId: 'o-1',
  partyA: A,
  parties: [{ label: 'b', number: B }],
  areaCode: '0755',
  durationSeconds: 3600,
};

describe('OrderBindingInputSchema', () => {
  test('fills defaults', () => {
    expect(OrderBindingInputSchema.parse(base)).toMatchObject({
      areaMatchMode: 'strict',
      callDirection: 'both',
      record: false,
    });
  });

  test('names every bad field', () => {
    const r = OrderBindingInputSchema.safeParse({
      ...base,
      orderId: 'bad id!',
      areaCode: '755',
      durationSeconds: 10,
      parties: [
        { label: 'b', number: A },
        { label: 'b', number: 'x' },
      ],
      userCallbackUrl: 'ftp://x.example',
    });
    expect(r.success).toBe(false);
    const paths = r.error!.issues.map((i) => i.path.join('.'));
    expect(paths).toEqual(
      expect.arrayContaining(['orderId', 'areaCode', 'durationSeconds', 'parties.1.number', 'userCallbackUrl']),
    );
  });

  test('rejects duplicate labels, B equal to A, and lifetimes beyond the provider limit', () => {
    const dup = OrderBindingInputSchema.safeParse({
      ...base,
      parties: [
        { label: 'b', number: B },
        { label: 'b', number: A },
      ],
    });
    expect(dup.error!.issues.map((i) => i.message)).toEqual(['duplicate label "b"', 'must differ from partyA']);
    const long = OrderBindingInputSchema.safeParse({
      ...base,
      durationSeconds: 60 * 86400,
      maxExtensionSeconds: 40 * 86400,
    });
    expect(long.error!.issues[0].path).toEqual(['maxExtensionSeconds']);
  });

  test('the provider duration covers lifetime + extension + margin, never 0, never above 90 days', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 60, max: PROVIDER_MAX_DURATION_SECONDS - SAFETY_MARGIN_SECONDS }),
        fc.option(fc.integer({ min: 0, max: PROVIDER_MAX_DURATION_SECONDS })),
        (durationSeconds, maxExtensionSeconds) => {
          const r = OrderBindingInputSchema.safeParse({
            ...base,
            durationSeconds,
            ...(maxExtensionSeconds !== null ? { maxExtensionSeconds } : {}),
          });
          if (!r.success) return;
          const d = providerDurationSeconds(r.data);
          expect(d).toBeGreaterThanOrEqual(60);
          expect(d).toBeLessThanOrEqual(PROVIDER_MAX_DURATION_SECONDS);
          expect(d).toBeGreaterThanOrEqual(
            durationSeconds + effectiveMaxExtensionSeconds(r.data) + SAFETY_MARGIN_SECONDS,
          );
        },
      ),
    );
  });

  test('default extension is durationSeconds, capped by what the provider allows', () => {
    expect(effectiveMaxExtensionSeconds(OrderBindingInputSchema.parse(base))).toBe(3600);
    const long = OrderBindingInputSchema.parse({ ...base, durationSeconds: 60 * 86400 });
    expect(effectiveMaxExtensionSeconds(long)).toBe(PROVIDER_MAX_DURATION_SECONDS - SAFETY_MARGIN_SECONDS - 60 * 86400);
  });
});

describe('userData', () => {
  test('round-trips the order id, is short and carries no number', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/), (orderId) => {
        const u = makeUserData(orderId, 'abc123def456');
        expect(u.length).toBeLessThanOrEqual(256);
        expect(orderIdFromUserData(u)).toBe(orderId);
      }),
    );
    expect(orderIdFromUserData('crm:42')).toBeNull();
    expect(orderIdFromUserData(undefined)).toBeNull();
  });
});

describe('providerEventsFromPush', () => {
  test('maps a call event with an ISO timestamp and a per-call dedup key', () => {
    const [ev] = providerEventsFromPush({
      eventType: 'disconnect',
      statusInfo: {
        timestamp: '2026-11-29 10:00:47',
        sessionId: 's',
        caller: B,
        called: A,
        stateCode: '8101',
        userData: 'bf1:o-1:a',
      },
    });
    expect(ev).toMatchObject({
      kind: 'callEvent',
      dedupKey: 'ev:s:disconnect',
      timestamp: '2026-11-29T10:00:47Z',
      stateCode: 8101,
    });
  });

  test('maps each record of a fee push, keyed by icid', () => {
    const evs = providerEventsFromPush({
      eventType: 'fee',
      feeLst: [
        { icid: 'i1', sessionId: 's1', direction: '1', recordFlag: 1, callEndTime: '2026-11-29 10:00:00' },
        { icid: 'i2', sessionId: 's2' },
      ],
    });
    expect(evs.map((e) => e.dedupKey)).toEqual(['rec:i1', 'rec:i2']);
    expect(evs[0]).toMatchObject({ direction: 1, recordFlag: true, callEndTime: '2026-11-29T10:00:00Z' });
  });

  test('time conversion leaves ISO strings alone', () => {
    expect(providerTimeToIso('2026-11-29T10:00:00Z')).toBe('2026-11-29T10:00:00Z');
    expect(providerTimeToIso(undefined)).toBeNull();
  });
});

describe('CallBook', () => {
  const numbers = { partyA: A, parties: [{ label: 'b', number: B, numberY: '+8675528000099' }] };
  const ev = (sessionId: string, eventType: 'callin' | 'answer' | 'disconnect', ts: string, extra = {}) =>
    providerEventsFromPush({
      eventType,
      statusInfo: { sessionId, timestamp: ts, caller: A, called: '+8675528000099', ...extra },
    })[0];

  test('merges events and the record into one call; duplicates change nothing', () => {
    const book = new CallBook();
    const events = [
      ev('s', 'callin', '2026-11-29 10:00:00'),
      ev('s', 'answer', '2026-11-29 10:00:03'),
      ev('s', 'disconnect', '2026-11-29 10:00:13', { stateCode: 0 }),
      ...providerEventsFromPush({
        eventType: 'fee',
        feeLst: [
          {
            icid: 'i',
            sessionId: 's',
            direction: 1,
            fwdDstNum: B,
            callInTime: '2026-11-29 10:00:00',
            fwdAnswerTime: '2026-11-29 10:00:03',
            callEndTime: '2026-11-29 10:00:13',
          },
        ],
      }),
    ];
    const effects = [...events, ...events].flatMap((e) => book.apply(e, numbers));
    expect(effects.map((e) => e.kind)).toEqual(['callCompleted']);
    expect(book.views()).toEqual([
      expect.objectContaining({
        sessionId: 's',
        direction: 'a-to-b',
        partyLabel: 'b',
        talkSeconds: 10,
        outcome: 'answered',
      }),
    ]);
  });

  test('an unanswered call takes its outcome from the stateCode, the record keeps it', () => {
    const book = new CallBook();
    book.apply(ev('u', 'callin', '2026-11-29 10:00:00'), numbers);
    book.apply(ev('u', 'disconnect', '2026-11-29 10:00:30', { stateCode: 8102 }), numbers);
    book.apply(
      providerEventsFromPush({ eventType: 'fee', feeLst: [{ icid: 'j', sessionId: 'u', fwdUnaswRsn: 17 }] })[0],
      numbers,
    );
    expect(book.views()[0]).toMatchObject({ outcome: 'busy', talkSeconds: 0, answeredAt: null });
  });

  test('keeps at most MAX_CALLS_KEPT calls, counting the dropped ones', () => {
    const book = new CallBook();
    for (let i = 0; i < MAX_CALLS_KEPT + 3; i++) book.apply(ev(`c${i}`, 'callin', '2026-11-29 10:00:00'), numbers);
    expect(book.views()).toHaveLength(MAX_CALLS_KEPT);
    expect(book.count).toBe(MAX_CALLS_KEPT);
    expect(book.toState().droppedCalls).toBe(3);
    // No call has its record: the oldest ones went.
    expect(book.views()[0].sessionId).toBe('c3');
  });

  test('past MAX_CALLS_KEPT the oldest call with its record goes first, an open call stays', () => {
    const book = new CallBook();
    const record = (sessionId: string) =>
      providerEventsFromPush({ eventType: 'fee', feeLst: [{ icid: `r-${sessionId}`, sessionId, fwdUnaswRsn: 17 }] })[0];
    for (let i = 0; i < MAX_CALLS_KEPT; i++) book.apply(ev(`c${i}`, 'callin', '2026-11-29 10:00:00'), numbers);
    book.apply(record('c7'), numbers);
    book.apply(record('c9'), numbers);
    book.apply(ev('new', 'callin', '2026-11-29 11:00:00'), numbers);
    const kept = book.views().map((v) => v.sessionId);
    expect(kept).toHaveLength(MAX_CALLS_KEPT);
    expect(kept).not.toContain('c7');
    expect(kept).toEqual(expect.arrayContaining(['c0', 'c9', 'new']));
    book.apply(ev('newer', 'callin', '2026-11-29 11:00:01'), numbers);
    expect(book.views().map((v) => v.sessionId)).not.toContain('c9');
    expect(book.views().map((v) => v.sessionId)).toContain('c0');
    expect(book.toState().droppedCalls).toBe(2);
  });
});

describe('what operators see (search attributes, details, summary)', () => {
  test('carries privacy numbers and labels, never a party number', () => {
    const request = OrderBindingInputSchema.parse(base);
    const record: BindingRecord = {
      orderId: 'o-1',
      workflowId: 'binding-o-1',
      originalInput: base,
      request,
      state: 'bound',
      subscriptionId: 'sub-1',
      numberX: '+8675528000001',
      parties: [{ label: 'b', number: B, numberY: '+8675528000050' }],
      expiresAtMs: Date.parse('2026-11-29T10:00:00Z'),
      baseExpiresAtMs: Date.parse('2026-11-29T10:00:00Z'),
      maxExtensionSeconds: 3600,
      calls: { calls: [], droppedCalls: 0, ignoredEvents: 0 },
    };
    const shown = JSON.stringify([
      searchAttributeUpdates(record).map((u) => [u.key.name, u.value]),
      currentDetails(record, 3),
      toSummary(record, []),
    ]);
    expect(shown).toContain('+8675528000001');
    expect(shown).toContain('+8675528000050');
    expect(shown).not.toContain(A.slice(1));
    expect(shown).not.toContain(B.slice(1));
    expect(
      searchAttributeUpdates(record)
        .map((u) => u.key.name)
        .sort(),
    ).toEqual([
      'AreaCode',
      'BindingState',
      'ExpiresAt',
      'OrderId',
      'PrivacyNumberX',
      'PrivacyNumbersY',
      'SubscriptionId',
    ]);
  });
});
