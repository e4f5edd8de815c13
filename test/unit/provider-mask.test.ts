import { maskDeep, maskNumber, maskText } from '../../provider/mask';

describe('maskNumber', () => {
  it.each([
    ['+8613800000002', '+86138****0002'],
    ['+8675512345678', '+86755****5678'],
    ['13800000002', '138****0002'],
    ['12345', '*2345'],
    ['123', '****'],
    ['+86138****0022', '****0022'], // already masked by the platform: stays masked
    ['', '****'],
  ])('%j -> %j', (input, out) => {
    expect(maskNumber(input)).toBe(out);
  });

  it('maps undefined and null to an empty string', () => {
    expect(maskNumber(undefined)).toBe('');
    expect(maskNumber(null)).toBe('');
  });
});

describe('maskText', () => {
  it('masks every number of 7+ digits in free text, and leaves short ones', () => {
    const t = maskText('B +8613800000002 dialled X +8675512340000, code 1016001, port 9080');
    expect(t).not.toMatch(/13800000002|75512340000/);
    expect(t).toContain('+86138****0002');
    expect(t).toContain('port 9080');
  });
});

describe('maskDeep', () => {
  it('masks nested strings and redacts secret-looking keys', () => {
    const out = maskDeep({
      origNum: '+8613800000002',
      list: [{ numB: '+8613800000003' }],
      appSecret: 's',
      headers: { 'X-AKSK': 'UsernameToken …', Authorization: 'AKSK' },
      passwordDigest: 'abc',
      n: 3,
    });
    const text = JSON.stringify(out);
    expect(text).not.toMatch(/13800000002|13800000003/);
    expect(out).toMatchObject({
      appSecret: '[redacted]',
      passwordDigest: '[redacted]',
      headers: { 'X-AKSK': '[redacted]', Authorization: '[redacted]' },
      n: 3,
    });
  });

  it('masks an Error to its name and masked message', () => {
    expect(maskDeep(new Error('failed for +8613800000002'))).toEqual({
      name: 'Error',
      message: 'failed for +86138****0002',
    });
  });

  it('keeps result codes and ids readable but still masks numbers under any other key', () => {
    const out = maskDeep({
      resultcode: '1016001',
      stateCode: 8101,
      subscriptionId: '8613800000002',
      caller: '+8613800000002',
      nested: { code: '1010010' },
    });
    expect(out).toEqual({
      resultcode: '1016001',
      stateCode: 8101,
      subscriptionId: '8613800000002',
      caller: '+86138****0002',
      nested: { code: '1010010' },
    });
  });
});
