import { z } from 'zod';
import { StreamHealthSchema } from '../devices/speaker-cluster/messages.js';
import type { OutageView } from './alarms.js';
import type { ReceiptState } from './bulletins.js';
import { CAMERA_STATES, type CameraEvent } from './cameras.js';

/**
 * The Socket.IO protocol between the platform and the web console: event names and payloads,
 * one zod schema each (the console imports the types only). Server → client events are
 * snapshots on connect, then coalesced deltas; client → server events are requests with acks.
 */

export const ClusterLiveSchema = z.object({
  id: z.string(),
  communeId: z.string(),
  villageId: z.string(),
  online: z.boolean(),
  since: z.string().nullable().describe('ISO time of the last online/offline change'),
  reason: z.string().nullable(),
  lastSeen: z.string().nullable(),
  signalDbm: z.number().nullable(),
  volume: z.number().nullable(),
  playing: z.boolean().nullable(),
  temperatureC: z.number().nullable(),
  supplyV: z.number().nullable(),
  speakers: z.array(z.object({ idx: z.int(), ok: z.boolean().nullable(), fault: z.string().nullable() })),
  stream: StreamHealthSchema.nullable(),
});
export type ClusterLive = z.infer<typeof ClusterLiveSchema>;

export const CameraLiveSchema = z.object({
  id: z.string(),
  communeId: z.string(),
  state: z.enum(CAMERA_STATES),
  since: z.string(),
  reason: z.string(),
  detail: z.string(),
  lastPollAt: z.string().nullable(),
});
export type CameraLive = z.infer<typeof CameraLiveSchema>;

export const DeliveryLiveSchema = z.object({
  broadcastId: z.string(),
  clusterId: z.string(),
  state: z.string().describe('the delivery state, as in GET /api/v1/broadcasts/{id}'),
  at: z.string(),
});
export type DeliveryLive = z.infer<typeof DeliveryLiveSchema>;

export const RawMessageSchema = z.object({
  deviceId: z.string(),
  topic: z.string(),
  direction: z.enum(['in', 'out']),
  payload: z.string().describe('UTF-8 text, cut to 4 KiB'),
  at: z.string(),
});
export type RawMessage = z.infer<typeof RawMessageSchema>;

/** Server → client. */
export interface ServerToClientEvents {
  /** Operators, technicians, admins: every visible cluster, on connect and after reconnect. */
  'clusters.snapshot': (clusters: ClusterLive[]) => void;
  /** Changed clusters since the last delta; at most ~10 per second per client. */
  'clusters.delta': (clusters: ClusterLive[]) => void;
  /** Police, technicians, admins: every visible camera, on connect. */
  'cameras.snapshot': (cameras: CameraLive[]) => void;
  'cameras.delta': (cameras: CameraLive[]) => void;
  /**
   * Police, technicians, admins: a camera's motion, tamper or video loss started (endedAt null) or
   * ended, as in GET /api/v1/camera-events; sent at once.
   */
  'cameras.event': (event: CameraEvent) => void;
  /** Operators and admins: per-cluster delivery progress of broadcasts. */
  'deliveries.delta': (deliveries: DeliveryLive[]) => void;
  /**
   * Operators, approvers and viewers: a commune's receipt of a bulletin from the province changed
   * (sent, scheduled, declined, expired, needs-order, aired), for the communes they may see.
   */
  'bulletins.receipt': (receipt: {
    bulletinId: string;
    communeId: string;
    state: ReceiptState;
    at: string;
  }) => void;
  /** Operators, technicians, viewers: an alarm opened, was acknowledged or cleared (new critical: sound). */
  'alarms.changed': (alarm: {
    change: 'opened' | 'acknowledged' | 'cleared';
    id: string;
    kind: string;
    severity: 'info' | 'warning' | 'critical';
    state: 'open' | 'acknowledged' | 'cleared';
    deviceId: string;
    communeId: string;
    held: boolean;
    incidentId: string | null;
  }) => void;
  /** The same: a village outage opened, changed or cleared; its cameras are blind meanwhile. */
  'incidents.changed': (incident: {
    id: string;
    communeId: string;
    villageId: string;
    open: boolean;
    devices: { deviceId: string; deviceKind: 'cluster' | 'camera'; back: boolean }[];
  }) => void;
  /**
   * Operators, technicians, viewers and police of the outage's commune: a village outage opened,
   * gained or got back a device, or cleared, as in GET /api/v1/outages (the blind cameras, no
   * clusters); sent at once. On (re)connect, read GET /api/v1/outages for those already open.
   */
  'outages.changed': (outage: OutageView) => void;
  /** Technicians and admins who asked with `device.watch`: the device's MQTT traffic. */
  'device.messages': (messages: RawMessage[]) => void;
}

export const WatchRequestSchema = z.object({ deviceId: z.string() });

/** Client → server, each with an acknowledgement. */
export interface ClientToServerEvents {
  'device.watch': (
    request: { deviceId: string },
    ack: (answer: { ok: boolean; error?: string }) => void,
  ) => void;
  'device.unwatch': (request: { deviceId: string }, ack: (answer: { ok: boolean }) => void) => void;
}
