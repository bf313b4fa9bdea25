import mqtt from 'mqtt';
import type { TestPlatform } from './platform-harness.js';

/** A command as the broker carried it to a cluster. */
export interface PublishedCommand {
  clusterId: string;
  id: string;
  type: string;
  broadcastId?: string;
  /** When the platform issued this copy (a retry of the same command is issued anew). */
  issuedAt?: number;
  /** A play's media address, which names the HTTP port of the instance that built the command. */
  mediaUrl?: string;
}

export interface CommandObserver {
  /** Every command published to any cluster since the observer subscribed, in order. */
  readonly commands: PublishedCommand[];
  close(): Promise<void>;
}

/**
 * Counts the commands sent to clusters on the broker itself: a separate MQTT client with the
 * platform's own credential, subscribed to every cluster's command topic (with several instances
 * sharing the broker through Redis, whichever instance published them).
 */
export function observeCommands(t: TestPlatform): Promise<CommandObserver> {
  return observeCommandsAt(t.mqttUrl, t.platform.internalMqttCredential);
}

/** The same on any broker: a platform instance in another process, given its internal credential. */
export async function observeCommandsAt(
  mqttUrl: string,
  credential: { username: string; password: string },
): Promise<CommandObserver> {
  const client = await mqtt.connectAsync(mqttUrl, { ...credential, reconnectPeriod: 0 });
  const commands: PublishedCommand[] = [];
  client.on('message', (topic, payload) => {
    const cmd = JSON.parse(payload.toString()) as {
      id: string;
      type: string;
      broadcastId?: string;
      issuedAt?: number;
      source?: { url?: string };
    };
    commands.push({
      clusterId: topic.split('/')[2] as string,
      id: cmd.id,
      type: cmd.type,
      broadcastId: cmd.broadcastId,
      ...(cmd.issuedAt === undefined ? {} : { issuedAt: cmd.issuedAt }),
      ...(cmd.source?.url === undefined ? {} : { mediaUrl: cmd.source.url }),
    });
  });
  await client.subscribeAsync('sc/v1/+/cmd', { qos: 1 });
  return {
    commands,
    close: () => client.endAsync(true).catch(() => undefined),
  };
}
