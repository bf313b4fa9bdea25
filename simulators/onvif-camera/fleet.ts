import type { SimulatedCameraOptions } from './camera-options.js';
import type { CameraFault, CameraFaultKind } from './faults.js';
import { type CameraStatus, SimulatedCamera } from './simulated-camera.js';

/** Crossroads and public places of Hướng Đạo commune where cameras are mounted. */
export const HUONG_DAO_CAMERA_SITES: readonly { name: string; location: string }[] = [
  { name: 'Ngã tư Hướng Đạo', location: 'Thôn Đồng Tĩnh' },
  { name: 'Ngã ba chợ Hướng Đạo', location: 'Thôn Chợ' },
  { name: 'Cổng UBND xã', location: 'Trung tâm xã' },
  { name: 'Ngã tư Đình Ấm', location: 'Thôn Đình Ấm' },
  { name: 'Cầu Đồng Khánh', location: 'Thôn Đồng Khánh' },
  { name: 'Ngã ba Hợp Lệ', location: 'Thôn Hợp Lệ' },
  { name: 'Trường THCS Hướng Đạo', location: 'Thôn Vinh Quang' },
  { name: 'Ngã tư Yên Lập', location: 'Thôn Yên Lập' },
];

export type SimulatedCameraFleetOptions = Omit<
  SimulatedCameraOptions,
  'name' | 'location' | 'httpPort' | 'rtspPort' | 'faults'
> & {
  count: number;
  /** Camera i (0-based) listens on base + i; 0 gives every camera an ephemeral port. */
  httpBasePort?: number;
  rtspBasePort?: number;
};

export class UnknownCameraError extends Error {
  override readonly name = 'UnknownCameraError';
}

/** Several simulated cameras sharing credentials, clock and logger; camera n is addressed as `n` (1-based). */
export class SimulatedCameraFleet {
  readonly cameras: readonly SimulatedCamera[];

  constructor(options: SimulatedCameraFleetOptions) {
    const { count, httpBasePort = 0, rtspBasePort = 0, seed, ...shared } = options;
    this.cameras = Array.from({ length: count }, (_, i) => {
      const site = HUONG_DAO_CAMERA_SITES[i % HUONG_DAO_CAMERA_SITES.length] ?? {
        name: 'Camera',
        location: '',
      };
      const round = Math.floor(i / HUONG_DAO_CAMERA_SITES.length);
      return new SimulatedCamera({
        ...shared,
        name: round === 0 ? site.name : `${site.name} ${round + 1}`,
        location: site.location,
        httpPort: httpBasePort === 0 ? 0 : httpBasePort + i,
        rtspPort: rtspBasePort === 0 ? 0 : rtspBasePort + i,
        ...(seed === undefined ? {} : { seed: seed + i }),
      });
    });
  }

  /** `all`, or a camera number from 1. */
  select(target: string): SimulatedCamera[] {
    if (target === 'all') return [...this.cameras];
    const camera = /^\d+$/.test(target) ? this.cameras[Number(target) - 1] : undefined;
    if (!camera) throw new UnknownCameraError(`no camera "${target}" (use 1..${this.cameras.length} or all)`);
    return [camera];
  }

  status(): CameraStatus[] {
    return this.cameras.map((camera) => camera.status());
  }

  async start(): Promise<void> {
    // One at a time so fixed base ports fail on the camera that collides, not in a burst.
    for (const camera of this.cameras) await camera.start();
  }

  /** Stops every camera, even when some fail, then reports the failures together. */
  async stop(): Promise<void> {
    const results = await Promise.allSettled(this.cameras.map((camera) => camera.stop()));
    const failures = results.flatMap((result) => (result.status === 'rejected' ? [result.reason] : []));
    if (failures.length > 0)
      throw new AggregateError(failures, `${failures.length} simulated cameras failed to stop`);
  }

  async injectFault(target: string, fault: CameraFault): Promise<void> {
    await Promise.all(this.select(target).map((camera) => camera.injectFault(fault)));
  }

  async clearFault(target: string, kind: CameraFaultKind | 'all'): Promise<void> {
    await Promise.all(this.select(target).map((camera) => camera.clearFault(kind)));
  }
}
