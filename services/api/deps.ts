import type { Registry } from 'prom-client';
import type { Clock } from '../../devices/index.js';
import type { CommandService } from '../commands/command-service.js';
import type { DeviceIngress } from '../ingress/device-ingress.js';
import type { PresenceService } from '../presence/presence-service.js';
import type { RegistryStore } from '../registry/registry-store.js';

/** What the HTTP routes reach; built once by the composition root. */
export interface ApiDeps {
  registry: RegistryStore;
  presence: PresenceService;
  commands: CommandService;
  ingress: DeviceIngress;
  metrics: Registry;
  clock: Clock;
  version: string;
  brokerStatus(): { embedded: boolean; connectedClients: number | null };
}
