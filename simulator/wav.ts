// A small real recording: a 1-second 440 Hz tone at 8 kHz, mono, G.711 A-law in a WAV container
// (format tag 6), which is the platform's recording format.

const SAMPLE_RATE = 8000;

/** G.711 A-law encoding of one 16-bit linear PCM sample. */
export function linearToAlaw(sample: number): number {
  let pcm = Math.max(-32768, Math.min(32767, Math.round(sample)));
  const sign = pcm >= 0 ? 0x80 : 0x00;
  if (pcm < 0) pcm = -pcm - 1;
  pcm >>= 3; // A-law works on 13-bit magnitudes
  let encoded: number;
  if (pcm < 32) {
    encoded = pcm >> 1;
  } else {
    let exponent = 1;
    while (pcm >= 64 << (exponent - 1) && exponent < 7) exponent++;
    encoded = (exponent << 4) | ((pcm >> exponent) & 0x0f);
  }
  return (encoded | sign) ^ 0x55;
}

export function alawWav(seconds = 1, frequency = 440): Buffer {
  const samples = Math.round(SAMPLE_RATE * seconds);
  const data = Buffer.alloc(samples);
  for (let i = 0; i < samples; i++)
    data[i] = linearToAlaw(8000 * Math.sin((2 * Math.PI * frequency * i) / SAMPLE_RATE));
  const fmt = Buffer.alloc(8 + 18);
  fmt.write('fmt ', 0, 'ascii');
  fmt.writeUInt32LE(18, 4);
  fmt.writeUInt16LE(6, 8); // WAVE_FORMAT_ALAW
  fmt.writeUInt16LE(1, 10); // mono
  fmt.writeUInt32LE(SAMPLE_RATE, 12);
  fmt.writeUInt32LE(SAMPLE_RATE, 16); // byte rate: 1 byte per sample
  fmt.writeUInt16LE(1, 20); // block align
  fmt.writeUInt16LE(8, 22); // bits per sample
  fmt.writeUInt16LE(0, 24); // no extra format bytes
  // Non-PCM WAV files carry a fact chunk with the sample count.
  const fact = Buffer.alloc(12);
  fact.write('fact', 0, 'ascii');
  fact.writeUInt32LE(4, 4);
  fact.writeUInt32LE(samples, 8);
  const dataHeader = Buffer.alloc(8);
  dataHeader.write('data', 0, 'ascii');
  dataHeader.writeUInt32LE(samples, 4);
  const riff = Buffer.alloc(12);
  riff.write('RIFF', 0, 'ascii');
  riff.writeUInt32LE(4 + fmt.length + fact.length + dataHeader.length + data.length, 4);
  riff.write('WAVE', 8, 'ascii');
  return Buffer.concat([riff, fmt, fact, dataHeader, data]);
}
