import seed from './fixtures/provider/seed-pushes.json';
import {
  AxBindRequestSchema,
  BindResponseSchema,
  CallEventPushSchema,
  FeePushSchema,
  PATHS,
  PhoneSchema,
  PushSchema,
  QueryParamsSchema,
  QueryResponseSchema,
  RecordUrlParamsSchema,
  UnbindParamsSchema,
  YbBindRequestSchema,
  fieldFromResultDesc,
  firstBadField,
  invalidFieldDesc,
  isFeePush,
} from '../../provider/schemas';
import type { z } from 'zod';

function badField(schema: z.ZodTypeAny, value: unknown): string | undefined {
  const r = schema.safeParse(value);
  return r.success ? undefined : firstBadField(r.error);
}

const A = '+8613800000001';
const B = '+8613800000002';

describe('paths', () => {
  it('are the spec paths', () => {
    expect(PATHS).toEqual({
      relation: '/rest/omp/xyrelationnumber/v1.0',
      recordUrl: '/rest/provision/voice/record/v1.0',
    });
  });
});

describe('PhoneSchema', () => {
  it.each([A, '+8675512345678', '+861012345678', '+862112345678', '+8657112345678'])('accepts %s', (n) => {
    expect(PhoneSchema.safeParse(n).success).toBe(true);
  });
  it.each(['13800000001', '+86138****0001', '+8612800000001', '+1415555123', '+86 13800000001', '+86075512345678', ''])(
    'rejects %j',
    (n) => {
      expect(PhoneSchema.safeParse(n).success).toBe(false);
    },
  );
});

describe('AX bind request (strict)', () => {
  const ok = { origNum: A, areaCode: '0755' };
  it('accepts a minimal and a full request', () => {
    expect(AxBindRequestSchema.parse(ok)).toEqual(ok);
    const full = {
      ...ok,
      areaMatchMode: '1',
      callDirection: 2,
      duration: 0,
      ybDuration: 7776000,
      recordFlag: true,
      recordHintTone: 'record_hint-1.wav',
      preVoiceX: 'x@tone.wav',
      userData: 'order-42',
    };
    expect(AxBindRequestSchema.parse(full)).toEqual(full);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['origNum missing', { areaCode: '0755' }, 'origNum'],
    ['origNum over 32', { origNum: '+86' + '1'.repeat(31), areaCode: '0755' }, 'origNum'],
    ['areaCode missing', { origNum: A }, 'areaCode'],
    ['areaCode without 0', { ...ok, areaCode: '755' }, 'areaCode'],
    ['duration 59', { ...ok, duration: 59 }, 'duration'],
    ['duration above 90 days', { ...ok, duration: 7776001 }, 'duration'],
    ['duration fractional', { ...ok, duration: 120.5 }, 'duration'],
    ['ybDuration above duration', { ...ok, duration: 600, ybDuration: 601 }, 'ybDuration'],
    ['ybDuration above the default duration', { ...ok, ybDuration: 7201 }, 'ybDuration'],
    ['callDirection 3', { ...ok, callDirection: 3 }, 'callDirection'],
    ['callDirection as string', { ...ok, callDirection: '1' }, 'callDirection'],
    ['areaMatchMode as number', { ...ok, areaMatchMode: 1 }, 'areaMatchMode'],
    ['recordFlag as string', { ...ok, recordFlag: 'true' }, 'recordFlag'],
    ['userData empty', { ...ok, userData: '' }, 'userData'],
    ['userData over 256', { ...ok, userData: 'x'.repeat(257) }, 'userData'],
    ['file name with a space', { ...ok, preVoiceX: 'my tone.wav' }, 'preVoiceX'],
    ['file name over 128', { ...ok, recordHintTone: 'a'.repeat(129) }, 'recordHintTone'],
    ['unknown field', { ...ok, preVoiceY: 'y.wav' }, 'preVoiceY'],
  ])('rejects %s, naming the field', (_name, value, field) => {
    expect(badField(AxBindRequestSchema, value)).toBe(field);
  });

  it('lets ybDuration be anything valid when duration is 0 (never expires), and 0 (ends with AX)', () => {
    expect(AxBindRequestSchema.safeParse({ ...ok, duration: 0, ybDuration: 7776000 }).success).toBe(true);
    expect(AxBindRequestSchema.safeParse({ ...ok, duration: 60, ybDuration: 0 }).success).toBe(true);
  });
});

describe('YB bind, unbind, query, recording requests', () => {
  it('YB requires origNum and subscriptionId', () => {
    expect(YbBindRequestSchema.safeParse({ origNum: B, subscriptionId: 'sub-1', preVoiceY: 'y.wav' }).success).toBe(
      true,
    );
    expect(badField(YbBindRequestSchema, { origNum: B })).toBe('subscriptionId');
    expect(badField(YbBindRequestSchema, { origNum: B, subscriptionId: 'x'.repeat(65) })).toBe('subscriptionId');
    expect(badField(YbBindRequestSchema, { origNum: B, subscriptionId: 's', preVoiceX: 'x.wav' })).toBe('preVoiceX');
  });

  it('unbind takes subscriptionId with optional yNum/bNum', () => {
    expect(UnbindParamsSchema.safeParse({ subscriptionId: 's', yNum: B }).success).toBe(true);
    expect(badField(UnbindParamsSchema, { yNum: B })).toBe('subscriptionId');
    expect(badField(UnbindParamsSchema, { subscriptionId: 's', bNum: '123' })).toBe('bNum');
  });

  it('query needs subscriptionId or relationNum', () => {
    expect(QueryParamsSchema.safeParse({ relationNum: '+8675512345678' }).success).toBe(true);
    expect(badField(QueryParamsSchema, {})).toBe('subscriptionId');
  });

  it('recording URL params are a host and a safe file name', () => {
    expect(RecordUrlParamsSchema.safeParse({ recordDomain: 'obs.example.com', fileName: 'a_b-c@1.wav' }).success).toBe(
      true,
    );
    expect(badField(RecordUrlParamsSchema, { recordDomain: 'obs.example.com', fileName: '../x.wav' })).toBe('fileName');
    expect(badField(RecordUrlParamsSchema, { recordDomain: 'a/b', fileName: 'x.wav' })).toBe('recordDomain');
  });
});

describe('responses', () => {
  it('parses a bind answer and rejects one without subscriptionId', () => {
    const r = { resultcode: '0', resultdesc: 'Success', subscriptionId: 'sub-1', relationNumber: '+8675512340000' };
    expect(BindResponseSchema.parse(r)).toEqual(r);
    expect(badField(BindResponseSchema, { resultcode: '0', relationNumber: 'x' })).toBe('subscriptionId');
  });

  it('parses a query answer with recordFlag as a string and numY/numB absent', () => {
    const q = QueryResponseSchema.parse({
      resultcode: '0',
      resultdesc: 'Success',
      xyRelationNumList: [
        {
          bindId: 'b1',
          numA: A,
          numX: '+8675512340000',
          recordFlag: 'false',
          subscribeTime: '2026-03-01 10:00:00',
          callDirection: 0,
          duration: '7200',
          ybDuration: 7200,
          extraField: 'kept',
        },
      ],
    });
    expect(q.xyRelationNumList[0]).toMatchObject({ recordFlag: 'false', duration: '7200', ybDuration: '7200' });
    expect(q.xyRelationNumList[0].numY).toBeUndefined();
    expect(
      badField(QueryResponseSchema, { resultcode: '0', xyRelationNumList: [{ numA: A, numX: A, recordFlag: true }] }),
    ).toBe('xyRelationNumList.0.recordFlag');
  });
});

describe('pushes (lenient)', () => {
  it('parses the seed page sample call event, with masked numbers as data', () => {
    const p = CallEventPushSchema.parse(seed.callEvent);
    expect(p.eventType).toBe('disconnect');
    expect(p.statusInfo).toMatchObject({ caller: '+86138****0022', stateCode: 0, subscriptionId: '****' });
    expect(PushSchema.parse(seed.callEvent).eventType).toBe('disconnect');
  });

  it('parses the seed page sample call record', () => {
    const p = FeePushSchema.parse(seed.callRecord);
    expect(p.feeLst).toHaveLength(1);
    expect(p.feeLst[0]).toMatchObject({
      direction: 1,
      recordFlag: 1,
      serviceType: '003',
      recordObjectName: '****.wav',
    });
    const any = PushSchema.parse(seed.callRecord);
    expect(isFeePush(any)).toBe(true);
  });

  it('tolerates unknown fields and numeric strings, keeps timestamps as strings', () => {
    const p = CallEventPushSchema.parse({
      eventType: 'answer',
      newTopLevel: 1,
      statusInfo: { timestamp: '2026-03-01 10:00:00', sessionId: 's', stateCode: '8101', vendorExtra: { a: 1 } },
    });
    expect(p.statusInfo.stateCode).toBe(8101);
    expect(p.statusInfo.timestamp).toBe('2026-03-01 10:00:00');
    expect((p.statusInfo as Record<string, unknown>).vendorExtra).toEqual({ a: 1 });
    expect((p as Record<string, unknown>).newTopLevel).toBe(1);
  });

  it.each(['callin', 'callout', 'alerting', 'answer', 'disconnect'])('accepts eventType %s', (eventType) => {
    expect(PushSchema.safeParse({ eventType, statusInfo: { timestamp: 't', sessionId: 's' } }).success).toBe(true);
  });

  it('reads eventType case-insensitively, as the provider demo does', () => {
    expect(PushSchema.parse({ ...seed.callEvent, eventType: 'Disconnect' }).eventType).toBe('disconnect');
    expect(PushSchema.parse({ ...seed.callRecord, eventType: 'FEE' }).eventType).toBe('fee');
  });

  it('rejects an unknown eventType, a call event without sessionId, and fee lists of 0 or 51 records', () => {
    expect(PushSchema.safeParse({ eventType: 'hangup', statusInfo: { timestamp: 't', sessionId: 's' } }).success).toBe(
      false,
    );
    expect(badField(PushSchema, { eventType: 'answer', statusInfo: { timestamp: 't' } })).toBe('statusInfo.sessionId');
    expect(badField(FeePushSchema, { eventType: 'fee', feeLst: [] })).toBe('feeLst');
    const rec = seed.callRecord.feeLst[0];
    expect(FeePushSchema.safeParse({ eventType: 'fee', feeLst: Array(50).fill(rec) }).success).toBe(true);
    expect(badField(FeePushSchema, { eventType: 'fee', feeLst: Array(51).fill(rec) })).toBe('feeLst');
    expect(badField(FeePushSchema, { eventType: 'fee', feeLst: [{ direction: 0 }] })).toBe('feeLst.0.icid');
  });
});

describe('1010002 field naming', () => {
  it('round-trips invalidFieldDesc through fieldFromResultDesc', () => {
    for (const f of ['origNum', 'ybDuration', 'subscriptionId', 'fileName', 'Content-Type', 'feeLst.0.icid']) {
      expect(fieldFromResultDesc(invalidFieldDesc(f))).toBe(f);
    }
    expect(fieldFromResultDesc('The parameter areaCode is invalid')).toBe('areaCode');
    expect(fieldFromResultDesc('Invalid request')).toBeUndefined();
  });
});
