import { type CameraChannel, type DeviceServices, deviceServices, listChannels } from './channels.js';
import { type CameraEventKind, chooseTopics } from './event-topics.js';
import { OnvifSession, type OnvifSessionOptions } from './onvif-session.js';
import type { CameraTarget, ProbeStep } from './probe.js';
import { EventCallError, getEventProperties } from './pullpoint.js';

/** What onboarding learns of a device before its channels become cameras. */
export interface DeviceInventory {
  reachable: boolean;
  /** False when the device refused the credentials; null when it was never asked. */
  authOk: boolean | null;
  services: DeviceServices | null;
  channels: CameraChannel[];
  /** The event kinds the device offers over PullPoint; null when it has no events service. */
  eventKinds: CameraEventKind[] | null;
  steps: ProbeStep[];
  error: string | null;
}

/**
 * Asks a device for its channels (video sources and their profiles, via Media and Media2) and the
 * events it can send, so a technician onboards each channel of an NVR as its own camera. Never
 * throws for device faults: each call made is a step with its outcome.
 */
export async function inventoryDevice(
  target: CameraTarget,
  options: OnvifSessionOptions,
): Promise<DeviceInventory> {
  const steps: ProbeStep[] = [];
  const inventory: DeviceInventory = {
    reachable: false,
    authOk: null,
    services: null,
    channels: [],
    eventKinds: null,
    steps,
    error: null,
  };
  const session = new OnvifSession(target, options);
  try {
    const time = await session.syncClock();
    steps.push({
      name: 'GetSystemDateAndTime',
      ok: time.ok,
      latencyMs: time.latencyMs,
      ...(time.ok ? {} : { error: time.detail }),
    });
    if (!time.ok) {
      inventory.reachable = time.kind !== 'network';
      inventory.error = `GetSystemDateAndTime: ${time.detail}`;
      return inventory;
    }
    inventory.reachable = true;
    const services = await deviceServices(session, steps);
    inventory.services = services;
    inventory.channels = await listChannels(session, services, steps);
    const refused = steps.find((s) => !s.ok && /NotAuthorized|not authorized|HTTP 401/i.test(s.error ?? ''));
    inventory.authOk = refused ? false : steps.some((s) => s.ok && s.name !== 'GetSystemDateAndTime');
    if (services.eventsUrl && services.pullPoint !== false && inventory.authOk) {
      const started = session.now();
      try {
        const topics = await getEventProperties(session, services.eventsUrl);
        inventory.eventKinds = [...new Set(chooseTopics(topics).map((t) => t.kind))];
        steps.push({ name: 'GetEventProperties', ok: true, latencyMs: session.now() - started });
      } catch (err) {
        if (!(err instanceof EventCallError)) throw err;
        steps.push({
          name: 'GetEventProperties',
          ok: false,
          latencyMs: session.now() - started,
          error: err.message,
        });
      }
    }
    const failed = steps.find((s) => !s.ok);
    if (failed) inventory.error = `${failed.name}: ${failed.error ?? 'failed'}`;
    return inventory;
  } finally {
    await session.close();
  }
}
