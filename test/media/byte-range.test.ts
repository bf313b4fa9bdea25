import { describe, expect, it } from 'vitest';
import { parseByteRange } from '../../services/media/byte-range.js';

describe('byte ranges for resumed downloads', () => {
  it('serves the whole file without a Range header', () => {
    expect(parseByteRange(undefined, 1000)).toEqual({ kind: 'full' });
  });

  it('reads a closed, an open-ended and a suffix range', () => {
    expect(parseByteRange('bytes=0-99', 1000)).toEqual({ kind: 'partial', start: 0, end: 99 });
    expect(parseByteRange('bytes=500-', 1000)).toEqual({ kind: 'partial', start: 500, end: 999 });
    expect(parseByteRange('bytes=-100', 1000)).toEqual({ kind: 'partial', start: 900, end: 999 });
  });

  it('clips a range that runs past the end, and a suffix longer than the file', () => {
    expect(parseByteRange('bytes=900-5000', 1000)).toEqual({ kind: 'partial', start: 900, end: 999 });
    expect(parseByteRange('bytes=-5000', 1000)).toEqual({ kind: 'partial', start: 0, end: 999 });
    expect(parseByteRange('bytes=0-99999999999999999999999', 1000)).toEqual({
      kind: 'partial',
      start: 0,
      end: 999,
    });
  });

  it('finds a range that starts at or past the end, or an empty suffix, unsatisfiable', () => {
    expect(parseByteRange('bytes=1000-', 1000)).toEqual({ kind: 'unsatisfiable' });
    expect(parseByteRange('bytes=2000-3000', 1000)).toEqual({ kind: 'unsatisfiable' });
    expect(parseByteRange('bytes=-0', 1000)).toEqual({ kind: 'unsatisfiable' });
  });

  it('ignores what it does not serve: several ranges, other units, reversed or malformed ranges', () => {
    for (const header of [
      'bytes=0-1,5-9',
      'items=0-1',
      'bytes=9-1',
      'bytes=-',
      'bytes=a-b',
      'bytes 0-1',
      '',
    ]) {
      expect(parseByteRange(header, 1000), header).toEqual({ kind: 'full' });
    }
  });
});
