import { describe, expect, it } from 'vitest';
import { acceptedFormat } from '../../services/media/audio-formats.js';

describe('accepted audio formats', () => {
  it('accepts MP3, WAV, Ogg Vorbis and Opus, ADTS AAC and M4A as one stored format each', () => {
    expect(acceptedFormat({ ext: 'mp3', mime: 'audio/mpeg' })).toEqual({ ext: 'mp3', mime: 'audio/mpeg' });
    for (const mime of ['audio/wav', 'audio/x-wav', 'audio/vnd.wave']) {
      expect(acceptedFormat({ ext: 'wav', mime }), mime).toEqual({ ext: 'wav', mime: 'audio/wav' });
    }
    expect(acceptedFormat({ ext: 'ogg', mime: 'audio/ogg' })).toEqual({ ext: 'ogg', mime: 'audio/ogg' });
    expect(acceptedFormat({ ext: 'opus', mime: 'audio/ogg; codecs=opus' })).toEqual({
      ext: 'ogg',
      mime: 'audio/ogg; codecs=opus',
    });
    expect(acceptedFormat({ ext: 'aac', mime: 'audio/aac' })).toEqual({ ext: 'aac', mime: 'audio/aac' });
    expect(acceptedFormat({ ext: 'm4a', mime: 'audio/x-m4a' })).toEqual({ ext: 'm4a', mime: 'audio/mp4' });
    expect(acceptedFormat({ ext: 'm4a', mime: 'audio/mp4' })).toEqual({ ext: 'm4a', mime: 'audio/mp4' });
  });

  it('refuses other audio the clusters do not decode, video, images and unknown bytes', () => {
    for (const detected of [
      { ext: 'mp2', mime: 'audio/mpeg' },
      { ext: 'oga', mime: 'audio/ogg' },
      { ext: 'spx', mime: 'audio/ogg' },
      { ext: 'm4b', mime: 'audio/mp4' },
      { ext: 'flac', mime: 'audio/flac' },
      { ext: 'ogv', mime: 'video/ogg' },
      { ext: 'mp4', mime: 'video/mp4' },
      { ext: 'png', mime: 'image/png' },
      undefined,
    ]) {
      expect(acceptedFormat(detected), JSON.stringify(detected)).toBeNull();
    }
  });
});
