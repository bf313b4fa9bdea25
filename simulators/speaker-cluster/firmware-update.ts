import type { Logger } from 'pino';
import type { CommandOf, FirmwareStage } from '../../devices/index.js';
import type { ClockTimers } from './clock-timers.js';
import { downloadError, downloadHashed, timeoutSignal } from './http-download.js';
import type { MediaFetchError } from './media-fetcher.js';
import { redactUrl } from './media-fetcher.js';

export type FirmwareCommand = CommandOf<'firmware'>;

/** One `firmware-progress` event, without its type, time and command id. */
export interface FirmwareProgress {
  stage: FirmwareStage;
  ok: boolean;
  error?: string;
  message?: string;
  version?: string;
}

/** The ack error of a firmware image that was written but would not run (docs/protocol.md 8). */
export const INSTALL_FAILED = 'install-failed';

export type FirmwareOutcome = { kind: 'installed' } | { kind: 'failed'; error: string };

export interface FirmwareDeps {
  timers: ClockTimers;
  /** Aborted when the power goes: the update is lost with it, as on a cluster. */
  signal: AbortSignal;
  /** The download must be complete within this long, on the cluster's clock. */
  timeoutMs: number;
  /** How long writing the image takes. */
  installMs: number;
  /** The `download-fail` fault's error when it fails this download (and counts it), else null. */
  downloadFault(): MediaFetchError | null;
  /** The `firmware-fail` fault: the image is written but does not boot. */
  installFails(): boolean;
  /** The version running now, which a failed install rolls back to. */
  runningVersion(): string;
  /** Publishes one step's `firmware-progress` event. */
  progress(step: FirmwareProgress): Promise<void>;
  log: Logger;
}

/**
 * Download, verify and install a firmware image (docs/protocol.md 7, `firmware`), reporting each
 * step. An install that fails is rolled back to the running version and reported with the version
 * it rolled back to. Resolves with what the cluster does next (reboot into the image, or ack
 * failed), or null when the power went meanwhile.
 */
export async function runFirmwareUpdate(
  command: FirmwareCommand,
  deps: FirmwareDeps,
): Promise<FirmwareOutcome | null> {
  const where = `GET ${redactUrl(command.url)}`;
  const fail = async (stage: FirmwareStage, error: string, message: string): Promise<FirmwareOutcome> => {
    deps.log.warn({ cmdId: command.id, stage, error, reason: message }, 'firmware update failed');
    await deps.progress({ stage, ok: false, error, message: message.slice(0, 200) });
    return { kind: 'failed', error };
  };

  const fault = deps.downloadFault();
  if (fault) return fail('download', fault.code, fault.message);
  const { signal, release } = timeoutSignal(deps.timers, deps.signal, deps.timeoutMs, where);
  let file: Awaited<ReturnType<typeof downloadHashed>>;
  try {
    file = await downloadHashed(command.url, signal, { maxBytes: command.sizeBytes, headBytes: 0 });
  } catch (error) {
    if (deps.signal.aborted) return null;
    const failure = downloadError(error, signal, where);
    return fail('download', failure.code, failure.message);
  } finally {
    release();
  }
  if (deps.signal.aborted) return null;
  await deps.progress({ stage: 'download', ok: true });

  if (file.overrun || file.bytes !== command.sizeBytes)
    return fail(
      'verify',
      'checksum-mismatch',
      `${where}: ${file.bytes} bytes, sizeBytes is ${command.sizeBytes}`,
    );
  if (file.sha256 !== command.sha256)
    return fail(
      'verify',
      'checksum-mismatch',
      `${where}: SHA-256 ${file.sha256} differs from ${command.sha256}`,
    );
  await deps.progress({ stage: 'verify', ok: true });

  if (!(await deps.timers.delay(deps.installMs)) || deps.signal.aborted) return null;
  if (deps.installFails()) {
    const outcome = await fail(
      'install',
      INSTALL_FAILED,
      'simulated: the new image did not pass its boot check (firmware-fail fault)',
    );
    await deps.progress({ stage: 'rollback', ok: true, version: deps.runningVersion() });
    deps.log.warn({ cmdId: command.id, version: deps.runningVersion() }, 'firmware rolled back');
    return outcome;
  }
  await deps.progress({ stage: 'install', ok: true });
  deps.log.info({ cmdId: command.id, version: command.version }, 'firmware installed; rebooting into it');
  return { kind: 'installed' };
}
