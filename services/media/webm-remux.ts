import {
  ALL_FORMATS,
  Conversion,
  FilePathSource,
  FilePathTarget,
  Input,
  OggOutputFormat,
  Output,
} from 'mediabunny';

/**
 * A browser recording (MediaRecorder: WebM with Opus) as Ogg Opus, the same audio packets in the
 * container the clusters play: nothing is decoded or encoded again. Throws a message for the
 * client when the WebM holds no Opus audio.
 */
export async function webmToOggOpus(inputPath: string, outputPath: string): Promise<void> {
  const input = new Input({ source: new FilePathSource(inputPath), formats: ALL_FORMATS });
  try {
    const audio = await input.getPrimaryAudioTrack();
    if (!audio) throw new WebmRefusal('the WebM file has no audio track');
    if (audio.codec !== 'opus')
      throw new WebmRefusal(`the WebM audio is ${audio.codec ?? 'unknown'}, not Opus`);
    const output = new Output({ format: new OggOutputFormat(), target: new FilePathTarget(outputPath) });
    const conversion = await Conversion.init({ input, output, video: { discard: true } });
    if (!conversion.isValid) throw new WebmRefusal('the WebM audio could not be carried over to Ogg');
    await conversion.execute();
  } finally {
    input.dispose();
  }
}

/** The upload is WebM but not one the library can keep (the message says why). */
export class WebmRefusal extends Error {}
