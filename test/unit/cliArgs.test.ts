import { parseDuration, parseCommand, UsageError } from '../../client/cliArgs';

describe('CLI argument helpers', () => {
  test.each([
    ['3600', 3600],
    ['90m', 5400],
    ['1h', 3600],
    ['2d', 172800],
    ['45s', 45],
  ])('parseDuration(%s) = %d', (text, seconds) => expect(parseDuration(text)).toBe(seconds));

  test('a bad duration names the option', () => {
    expect(() => parseDuration('soon', '--duration')).toThrow(/--duration: "soon" is not a duration/);
  });

  test('unknown options are usage errors that show the usage', () => {
    expect(() => parseCommand(['--nope'], {}, 'usage: x')).toThrow(UsageError);
    expect(() => parseCommand(['--nope'], {}, 'usage: x')).toThrow(/usage: x/);
  });
});
