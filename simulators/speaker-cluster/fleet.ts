import { seedFromString } from '../shared/prng.js';
import type { SimulatedClusterOptions } from './cluster-options.js';
import type { ClusterStatus } from './cluster-status.js';
import type { Fault, FaultKind } from './faults.js';
import type { FleetDevice } from './fleet-file.js';
import { SimulatedCluster } from './simulated-cluster.js';

export type SimulatedFleetOptions = Omit<SimulatedClusterOptions, 'deviceId' | 'secret'> & {
  devices: readonly Pick<FleetDevice, 'deviceId' | 'secret'>[];
};

/** `all`, or one device id. */
export type FleetTarget = string;

export class UnknownDeviceError extends Error {
  override readonly name = 'UnknownDeviceError';
}

/** Many simulated clusters sharing one broker address, clock and logger. */
export class SimulatedFleet {
  private readonly clusters: ReadonlyMap<string, SimulatedCluster>;

  constructor(options: SimulatedFleetOptions) {
    const { devices, seed, ...shared } = options;
    this.clusters = new Map(
      devices.map((device) => [
        device.deviceId,
        new SimulatedCluster({
          ...shared,
          deviceId: device.deviceId,
          secret: device.secret,
          // One fleet seed still gives every cluster its own telemetry.
          ...(seed === undefined ? {} : { seed: (seed ^ seedFromString(device.deviceId)) >>> 0 }),
        }),
      ]),
    );
  }

  get size(): number {
    return this.clusters.size;
  }

  ids(): string[] {
    return [...this.clusters.keys()];
  }

  get(deviceId: string): SimulatedCluster | undefined {
    return this.clusters.get(deviceId);
  }

  /** Like get(), but an id not in the fleet throws UnknownDeviceError. */
  require(deviceId: string): SimulatedCluster {
    const cluster = this.clusters.get(deviceId);
    if (cluster) return cluster;
    throw new UnknownDeviceError(`no simulated cluster "${deviceId}" (known: ${this.ids().join(', ')})`);
  }

  /** The clusters a target names: every one for `all`. */
  select(target: FleetTarget): SimulatedCluster[] {
    return target === 'all' ? [...this.clusters.values()] : [this.require(target)];
  }

  status(): ClusterStatus[] {
    return [...this.clusters.values()].map((cluster) => cluster.status());
  }

  /** Starts every cluster; resolves when each has made its first connection attempt. */
  async start(): Promise<void> {
    await Promise.all([...this.clusters.values()].map((cluster) => cluster.start()));
  }

  /** Stops every cluster, even when some fail, then reports the failures together. */
  async stop(): Promise<void> {
    const results = await Promise.allSettled([...this.clusters.values()].map((cluster) => cluster.stop()));
    const failures = results.flatMap((result) => (result.status === 'rejected' ? [result.reason] : []));
    if (failures.length > 0)
      throw new AggregateError(failures, `${failures.length} simulated clusters failed to stop`);
  }

  async injectFault(target: FleetTarget, fault: Fault): Promise<void> {
    await Promise.all(this.select(target).map((cluster) => cluster.injectFault(fault)));
  }

  async clearFault(target: FleetTarget, kind: FaultKind | 'all', speaker?: number): Promise<void> {
    await Promise.all(this.select(target).map((cluster) => cluster.clearFault(kind, speaker)));
  }
}
