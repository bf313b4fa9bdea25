import type { Logger } from 'pino';
import type { CommandOf, SelftestResult, SpeakerStatus } from '../../devices/index.js';
import type { ClockTimers } from './clock-timers.js';
import { downloadError, downloadHashed, timeoutSignal } from './http-download.js';
import { MediaFetchError, redactUrl, wavDurationS } from './media-fetcher.js';

export type SelftestCommand = CommandOf<'selftest'>;

export interface SelftestDeps {
  timers: ClockTimers;
  /** Aborted when the power goes: the test ends without an answer, as on a cluster. */
  signal: AbortSignal;
  /** The download of the test file must be complete within this long, on the cluster's clock. */
  timeoutMs: number;
  /** How long measuring the amplifier and the lines takes (twice that with a test tone). */
  checkMs: number;
  /** The `download-fail` fault's error when it fails this download (and counts it), else null. */
  downloadFault(): MediaFetchError | null;
  /** The amplifier's fault code when it is broken (`playback-fail`), else null. */
  amplifierFault(): string | null;
  /** Each speaker line as the cluster measures it now. */
  speakers(): SpeakerStatus[];
  log: Logger;
}

/**
 * A readiness drill on one cluster (docs/protocol.md 7, `selftest`): download the test file
 * and check it, decode it (a PCM WAV header), then measure the amplifier and each speaker line,
 * silently unless the command asks for a tone. Resolves with a result per check, or null when the
 * power went meanwhile (a cluster without power answers nothing).
 */
export async function runSelftest(
  command: SelftestCommand,
  deps: SelftestDeps,
): Promise<SelftestResult | null> {
  const download = await fetchTestFile(command, deps);
  if (deps.signal.aborted) return null;
  const decode = !download.file
    ? { ok: false, error: 'not-run', message: 'nothing to decode' }
    : wavDurationS(download.file.head, download.file.bytes) === undefined
      ? { ok: false, error: 'undecodable', message: 'not a PCM WAV file' }
      : { ok: true };
  if (command.tone) deps.log.info({ cmdId: command.id }, 'selftest: test tone on every line');
  if (!(await deps.timers.delay(deps.checkMs * (command.tone ? 2 : 1))) || deps.signal.aborted) return null;
  const amplifierFault = deps.amplifierFault();
  return {
    download: download.check,
    decode,
    amplifier: amplifierFault === null ? { ok: true } : { ok: false, fault: amplifierFault },
    speakers: deps.speakers(),
    ...(command.tone ? { tone: true } : {}),
  };
}

async function fetchTestFile(
  command: SelftestCommand,
  deps: SelftestDeps,
): Promise<{ check: SelftestResult['download']; file?: { head: Buffer; bytes: number } }> {
  const failed = (error: MediaFetchError) => ({
    check: { ok: false, error: error.code, message: error.message.slice(0, 200) },
  });
  const fault = deps.downloadFault();
  if (fault) return failed(fault);
  const where = `GET ${redactUrl(command.url)}`;
  const { signal, release } = timeoutSignal(deps.timers, deps.signal, deps.timeoutMs, where);
  try {
    const file = await downloadHashed(command.url, signal, { maxBytes: command.sizeBytes });
    if (file.overrun || file.bytes !== command.sizeBytes)
      return failed(checksum(`${where}: got ${file.bytes} bytes, sizeBytes is ${command.sizeBytes}`));
    if (file.sha256 !== command.sha256)
      return failed(checksum(`${where}: SHA-256 ${file.sha256} differs from ${command.sha256}`));
    return { check: { ok: true }, file };
  } catch (error) {
    return failed(downloadError(error, signal, where));
  } finally {
    release();
  }
}

function checksum(message: string): MediaFetchError {
  return new MediaFetchError('checksum-mismatch', message);
}
