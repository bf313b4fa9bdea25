import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CAMERA_REASON_CODES } from '../../contracts/cameras.js';
import {
  type CameraPollSignals,
  classifyPoll,
  defaultCameraHealthConfig,
  initialCameraHealth,
} from '../../devices/onvif-camera/health-machine.js';

/*
 * Police read a camera's reason in their language: every code the health machine can give has a
 * label in the console's Vietnamese and English texts.
 */
const texts = (language: 'vi' | 'en') =>
  JSON.parse(readFileSync(join(import.meta.dirname, '../../web/src/i18n', `${language}.json`), 'utf8')) as {
    cameraReason: Record<string, string>;
  };

const healthy: CameraPollSignals = {
  reachable: true,
  onvifOk: true,
  onvifLatencyMs: 40,
  authOk: true,
  clockDriftS: 0,
  timeZoneErrorS: null,
  streamUriPresent: true,
  rtspOk: true,
  snapshotOk: true,
  snapshotBytes: 20_000,
  snapshotLatencyMs: 80,
};

/** One poll showing each thing that can be wrong with a camera, alone. */
const POLLS: Partial<CameraPollSignals>[] = [
  {},
  { reachable: false },
  { onvifOk: false },
  { certificateChanged: true },
  { authOk: false },
  { streamUriPresent: false },
  { rtspOk: false },
  { snapshotOk: false },
  { clockDriftS: 25_200, timeZoneErrorS: 25_200 },
  { clockDriftS: 60 },
  { onvifLatencyMs: 9_000 },
  { snapshotLatencyMs: 9_000 },
];

describe('camera health reasons', () => {
  it('lists every reason the health machine gives', () => {
    const given = new Set([
      initialCameraHealth(0).reason.code,
      ...POLLS.map((poll) => classifyPoll({ ...healthy, ...poll }, defaultCameraHealthConfig).reason.code),
    ]);
    expect([...given].sort()).toEqual([...CAMERA_REASON_CODES].sort());
  });

  it.each(['vi', 'en'] as const)('labels every reason in %s', (language) => {
    const labels = texts(language).cameraReason;
    const missing = CAMERA_REASON_CODES.filter((code) => !labels[code]?.trim());
    expect(missing).toEqual([]);
  });

  it('labels the time-zone and certificate reasons in Vietnamese, not with the English words', () => {
    const vi = texts('vi').cameraReason;
    const en = texts('en').cameraReason;
    for (const code of ['time-zone', 'certificate-changed']) expect(vi[code]).not.toBe(en[code]);
  });
});
