// Call routing by the AXYB rules, each outcome's stateCode, and the events and record of a call (no server).
import { BindingStore } from '../../simulator/bindings';
import { CallRequestSchema, placeCall, type CallRequestInput } from '../../simulator/calls';
import { createClock } from '../../simulator/clock';
import { defaultPool, type Pool } from '../../simulator/pool';
import { createRng } from '../../simulator/random';
import { alawWav, linearToAlaw } from '../../simulator/wav';
import { CallEventPushSchema, FeeRecordSchema } from '../../provider/schemas';

const A = '+8613800000001';
const B = '+8613800000002';
const C = '+8613800000003';

function setup(opts: { pool?: Pool; callDirection?: 0 | 1 | 2; recordFlag?: boolean } = {}) {
  const clock = createClock(1);
  const rng = createRng(11);
  const store = new BindingStore(opts.pool ?? defaultPool(), rng);
  const ax = store.bindAx(
    {
      origNum: A,
      areaCode: '0755',
      callDirection: opts.callDirection,
      recordFlag: opts.recordFlag,
      userData: 'order-42',
    },
    clock.now(),
  );
  const { yb } = store.bindYb({ origNum: B, subscriptionId: ax.subscriptionId }, clock.now());
  const call = (req: CallRequestInput) =>
    placeCall(CallRequestSchema.parse(req), { store, rng, now: clock.now(), appKey: 'k', recordDomain: 'rec.example' });
  return { store, ax, yb, call, clock };
}

describe('simulator calls', () => {
  it('B dials X and reaches A, shown Y; every event carries one sessionId and the userData', () => {
    const { ax, yb, call } = setup();
    const placed = call({ from: B, to: ax.numX, talkSeconds: 42 });
    expect(placed.result).toMatchObject({ connectedTo: A, displayNumber: yb.numY, stateCode: 0, direction: 'b-to-a' });
    expect(placed.events.map((e) => e.eventType)).toEqual(['callin', 'callout', 'alerting', 'answer', 'disconnect']);
    for (const e of placed.events) {
      expect(CallEventPushSchema.parse(e).statusInfo).toMatchObject({
        sessionId: placed.result.sessionId,
        subscriptionId: ax.subscriptionId,
        userData: 'order-42',
      });
    }
    expect(placed.events[4].statusInfo).toMatchObject({
      stateCode: 0,
      caller: B,
      called: ax.numX,
      callRelDirection: 1,
    });
    const rec = FeeRecordSchema.parse(placed.record);
    expect(rec).toMatchObject({
      direction: 0,
      callerNum: B,
      calleeNum: ax.numX,
      bindNum: ax.numX,
      fwdDisplayNum: yb.numY,
      fwdDstNum: A,
      sessionId: placed.result.sessionId,
      userData: 'order-42',
      recordFlag: 0,
    });
    const talk = (Date.parse(rec.callEndTime! + 'Z') - Date.parse(rec.fwdAnswerTime! + 'Z')) / 1000;
    expect(talk).toBe(42);
  });

  it('A dials Y and reaches B, shown X', () => {
    const { ax, yb, call } = setup();
    const placed = call({ from: A, to: yb.numY });
    expect(placed.result).toMatchObject({ connectedTo: B, displayNumber: ax.numX, stateCode: 0, direction: 'a-to-b' });
    expect(placed.record).toMatchObject({ direction: 1, fwdDisplayNum: ax.numX, fwdDstNum: B, bindNum: yb.numY });
  });

  it('blocks the direction the binding does not allow with 8057', () => {
    const onlyAtoB = setup({ callDirection: 1 });
    expect(onlyAtoB.call({ from: B, to: onlyAtoB.ax.numX }).result.stateCode).toBe(8057);
    expect(onlyAtoB.call({ from: A, to: onlyAtoB.yb.numY }).result.stateCode).toBe(0);
    const onlyBtoA = setup({ callDirection: 2 });
    expect(onlyBtoA.call({ from: A, to: onlyBtoA.yb.numY }).result.stateCode).toBe(8057);
    expect(onlyBtoA.call({ from: B, to: onlyBtoA.ax.numX }).result.stateCode).toBe(0);
  });

  it('answers 8032 when a party dials its own privacy number, 8030 when nothing is bound', () => {
    const { ax, yb, call } = setup();
    expect(call({ from: A, to: ax.numX }).result.stateCode).toBe(8032);
    expect(call({ from: B, to: yb.numY }).result.stateCode).toBe(8032);
    const none = call({ from: C, to: '+861099999999' });
    expect(none.result).toMatchObject({ stateCode: 8030, connectedTo: null, displayNumber: null });
    expect(none.events.map((e) => e.eventType)).toEqual(['callin', 'disconnect']);
    expect(none.record).toMatchObject({ direction: 2, ulFailReason: 8030 });
    // C is not A of this binding: dialling Y reaches nobody
    expect(call({ from: C, to: yb.numY }).result.stateCode).toBe(8030);
  });

  it('allocates a Y on the fly when a new caller dials X (auto-Y), and 8031 when none is free', () => {
    const pool = { '0755': ['+8675528000001', '+8675528000002', '+8675528000003'] };
    const { store, ax, call, clock } = setup({ pool });
    const placed = call({ from: C, to: ax.numX });
    expect(placed.result.stateCode).toBe(0);
    expect(placed.result.autoY).toBeDefined();
    expect(placed.result.displayNumber).toBe(placed.result.autoY);
    const auto = store.get(ax.subscriptionId, clock.now())!.yb.find((y) => y.numB === C)!;
    expect(auto).toMatchObject({ auto: true, numY: placed.result.autoY });
    // A now reaches C through the auto Y
    expect(call({ from: A, to: auto.numY }).result).toMatchObject({ connectedTo: C, stateCode: 0 });
    // pool exhausted: the next stranger cannot get a Y
    const failed = call({ from: '+8613800000009', to: ax.numX });
    expect(failed.result.stateCode).toBe(8031);
    expect(failed.events.at(-1)?.statusInfo.stateCode).toBe(8031);
  });

  it('busy (8102) skips ringing, no answer (8101) rings without answer, unreachable is 8104', () => {
    const { ax, call } = setup();
    const busy = call({ from: B, to: ax.numX, busy: true });
    expect(busy.result.stateCode).toBe(8102);
    expect(busy.events.map((e) => e.eventType)).toEqual(['callin', 'callout', 'disconnect']);
    expect(busy.record.fwdAlertingTime).toBeUndefined();
    expect(busy.record.fwdAnswerTime).toBeUndefined();
    const noAnswer = call({ from: B, to: ax.numX, answer: false });
    expect(noAnswer.result).toMatchObject({ stateCode: 8101, answered: false });
    expect(noAnswer.events.map((e) => e.eventType)).toEqual(['callin', 'callout', 'alerting', 'disconnect']);
    expect(noAnswer.record.fwdAlertingTime).toBeDefined();
    expect(noAnswer.record.fwdAnswerTime).toBeUndefined();
    expect(call({ from: B, to: ax.numX, unreachable: true }).result.stateCode).toBe(8104);
  });

  it('records answered calls of recorded bindings from 3 s of talk', () => {
    const { ax, call } = setup({ recordFlag: true });
    const long = call({ from: B, to: ax.numX, talkSeconds: 3 });
    expect(long.record).toMatchObject({
      recordFlag: 1,
      recordDomain: 'rec.example',
      recordObjectName: `${long.record.icid}.wav`,
    });
    expect(long.recording?.objectName).toBe(long.record.recordObjectName);
    const short = call({ from: B, to: ax.numX, talkSeconds: 2 });
    expect(short.record.recordFlag).toBe(0);
    expect(short.record.recordObjectName).toBeUndefined();
    expect(short.recording).toBeUndefined();
  });

  it('validates the call request and names the bad field', () => {
    const r = CallRequestSchema.safeParse({ from: '123', to: '+8675528000001' });
    expect(r.success).toBe(false);
    expect(r.error!.issues[0].path).toEqual(['from']);
  });

  it('makes a real A-law WAV', () => {
    const wav = alawWav();
    expect(wav.toString('ascii', 0, 4)).toBe('RIFF');
    expect(wav.toString('ascii', 8, 12)).toBe('WAVE');
    expect(wav.readUInt16LE(20)).toBe(6); // WAVE_FORMAT_ALAW
    expect(wav.readUInt32LE(24)).toBe(8000);
    expect(wav.readUInt32LE(4)).toBe(wav.length - 8);
    // G.711 reference points: silence and full scale
    expect(linearToAlaw(0)).toBe(0xd5);
    expect(linearToAlaw(32767)).toBe(0xaa);
    expect(linearToAlaw(-32768)).toBe(0x2a);
  });
});
