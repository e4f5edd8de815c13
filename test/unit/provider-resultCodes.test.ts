import {
  ProviderError,
  RESULT_CODES,
  classifyResult,
  errorFromResult,
  isNotFound,
  lookupResultCode,
} from '../../provider/resultCodes';

// The spec's §7 table, written out independently of the implementation: code -> [class, HTTP status].
const TABLE: Array<[string, string, number]> = [
  ['0', 'success', 200],
  ['1010013', 'clock', 400],
  ['1020176', 'blocked', 400],
  ['1020166', 'permanent', 403],
  ['1010002', 'permanent', 403],
  ['1010003', 'permanent', 400],
  ['1010008', 'permanent', 403],
  ['1010029', 'permanent', 403],
  ['1010040', 'permanent', 403],
  ['1011002', 'resources', 403],
  ['1012008', 'resources', 403],
  ['1011003', 'permanent', 403],
  ['1012001', 'permanent', 403],
  ['1012010', 'permanent', 403],
  ['1016001', 'notFound', 403],
  ['1016002', 'permanent', 403],
  ['1012012', 'permanent', 403],
  ['1012007', 'permanent', 403],
  ['1012102', 'permanent', 403],
  ['1010010', 'throttled', 403],
  ['1010001', 'transient', 500],
  ['1023001', 'transient', 500],
  ['1023002', 'transient', 500],
];

describe('result code table', () => {
  it('covers exactly the codes of the spec', () => {
    expect(RESULT_CODES.map((r) => r.code).sort()).toEqual(TABLE.map((t) => t[0]).sort());
  });

  it.each(TABLE)('%s is %s with HTTP %d', (code, cls, status) => {
    const c = classifyResult(code);
    expect(c.class).toBe(cls);
    expect(c.httpStatus).toBe(status);
    expect(c.known).toBe(true);
    const retryable = ['transient', 'throttled', 'blocked', 'clock'].includes(cls);
    expect(c.retryable).toBe(retryable);
    expect(c.permanent).toBe(cls !== 'success' && !retryable);
    expect(c.notFound).toBe(code === '1016001');
  });

  it('waits 60 s after flow control and 30 min after an IP block', () => {
    expect(classifyResult('1010010').retryAfterMs).toBe(60_000);
    expect(classifyResult('1020176').retryAfterMs).toBe(30 * 60_000);
    expect(classifyResult('1010001').retryAfterMs).toBeUndefined();
  });

  it('asks for a re-signed retry after a clock fault', () => {
    expect(classifyResult('1010013')).toMatchObject({ retryable: true, resign: true, retryAfterMs: 0 });
  });

  it.each(['1023006', '1023020', '1023033', '1023035', '1023038'])(
    '%s (auth header range) is permanent, HTTP 400',
    (code) => {
      expect(classifyResult(code)).toMatchObject({
        class: 'permanent',
        httpStatus: 400,
        retryable: false,
        known: true,
      });
    },
  );

  it.each(['1023005', '1023039'])('%s just outside the auth range is unknown', (code) => {
    expect(lookupResultCode(code)).toBeUndefined();
  });

  it('judges unknown codes by HTTP status', () => {
    expect(classifyResult('9999999', 503)).toMatchObject({ known: false, retryable: true, class: 'transient' });
    expect(classifyResult('9999999', 403)).toMatchObject({ known: false, retryable: false, permanent: true });
    expect(classifyResult('9999999')).toMatchObject({ retryable: false });
  });
});

describe('ProviderError from a result', () => {
  it('flags 1016001 as notFound', () => {
    const err = errorFromResult('unbind', '1016001', 'binding not exist', 403);
    expect(err).toBeInstanceOf(ProviderError);
    expect(isNotFound(err)).toBe(true);
    expect(err.retryable).toBe(false);
    expect(isNotFound(errorFromResult('unbind', '1016002', 'x', 403))).toBe(false);
  });

  it('marks a bind answered with 1023002 (platform response timeout) as outcome unknown', () => {
    expect(errorFromResult('bindAx', '1023002', 'timeout', 500).outcomeUnknown).toBe(true);
    expect(errorFromResult('bindYb', '1023002', 'timeout', 500).outcomeUnknown).toBe(true);
    expect(errorFromResult('unbind', '1023002', 'timeout', 500).outcomeUnknown).toBe(false);
    expect(errorFromResult('bindAx', '1010001', 'internal', 500).outcomeUnknown).toBe(false);
  });

  it('carries code, description, status, field, retry delay', () => {
    const err = errorFromResult('bindAx', '1010002', 'Invalid parameter: areaCode', 403, 'areaCode');
    expect(err).toMatchObject({ code: '1010002', httpStatus: 403, field: 'areaCode', retryable: false, api: 'bindAx' });
    expect(errorFromResult('bindAx', '1010010', '', 403)).toMatchObject({
      retryAfterMs: 60_000,
      retryable: true,
      description: 'Platform flow control reached',
    });
  });

  it('masks numbers and scrubs secrets in the message and the JSON form', () => {
    const err = errorFromResult(
      'bindAx',
      '1012102',
      'number +8613800000002 blacklisted, key s3cretvalue',
      403,
      undefined,
      ['s3cretvalue'],
    );
    const texts = [err.message, err.description, JSON.stringify(err)];
    for (const t of texts) {
      expect(t).not.toContain('+8613800000002');
      expect(t).not.toContain('s3cretvalue');
    }
    expect(err.message).toContain('+86138****0002');
  });
});
