import { PassThrough } from 'node:stream';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ErrorSchema } from '../../contracts/pages.js';
import { DeviceIdSchema } from '../../devices/index.js';
import type { CameraAddressPolicy } from '../../devices/onvif-camera/address-policy.js';
import { errorResponses } from '../api/pagination.js';
import { routePlugin } from '../api/route-plugin.js';
import { assertInScope, SESSION_COOKIE } from '../api/security.js';
import type { FeatureContext } from '../platform/feature.js';
import { CameraLiveService, type LiveCameraTrust, type ViewerCredential } from './camera-live.js';
import type { CameraStore } from './camera-store.js';

const BOUNDARY = 'frame';
/** A viewer further behind than this loses frames instead of the platform buffering them. */
const MAX_VIEWER_BUFFER_BYTES = 256 * 1024;

export interface CameraLiveRouteDeps {
  live: CameraLiveService;
  cameras: CameraStore;
}

/** The credential the request came with, so the view can end when it does. */
function credentialOf(request: FastifyRequest): ViewerCredential | null {
  const bearer = /^bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
  if (bearer?.[1]) return { kind: 'token', token: bearer[1] };
  const sessionId = request.cookies?.[SESSION_COOKIE];
  return sessionId ? { kind: 'session', sessionId } : null;
}

/** One multipart part, followed at once by the next boundary so browsers show it without waiting. */
const part = (jpeg: Buffer) =>
  Buffer.concat([
    Buffer.from(`Content-Type: image/jpeg\r\nContent-Length: ${jpeg.length}\r\n\r\n`),
    jpeg,
    Buffer.from(`\r\n--${BOUNDARY}\r\n`),
  ]);

export const cameraLiveRoutes: FastifyPluginAsyncZod<{ deps: CameraLiveRouteDeps }> = async (
  app,
  { deps },
) => {
  const { live, cameras } = deps;
  // Before the server closes: open views are long responses it would otherwise wait for.
  app.addHook('preClose', async () => live.stop());

  app.get(
    '/cameras/:id/live',
    {
      config: { access: ['police'] },
      schema: {
        tags: ['cameras'],
        summary: 'Live picture of a camera (multipart/x-mixed-replace JPEG frames, for an <img>)',
        description:
          'Police (and admins) of the camera\u2019s commune. The platform pulls Motion JPEG from the camera over ' +
          'RTSP (or polls its snapshot when it has no MJPEG stream) and forwards the frames; one stream per ' +
          'camera serves every viewer. Each view is audited (camera.view.start, camera.view.end with its ' +
          'duration) and ends when the viewer\u2019s session does. 503 when too many views are open or the ' +
          'camera gives no picture. With frames=n the response ends after n frames.',
        params: z.object({ id: DeviceIdSchema }),
        querystring: z.object({ frames: z.coerce.number().int().min(1).max(10_000).optional() }),
        response: {
          200: z.any().describe('multipart/x-mixed-replace; boundary=frame, one image/jpeg per part'),
          ...errorResponses,
          503: ErrorSchema,
        },
      },
    },
    async (request, reply) => {
      const camera = await cameras.get(request.params.id);
      assertInScope(request, camera.communeId, 'camera', camera.id);
      const principal = request.principal;
      const credential = credentialOf(request);
      if (!principal || !credential) throw new Error('a guarded route ran without a principal');
      const view = await live.open(camera.id, camera.communeId, {
        principal,
        credential,
        address: request.ip,
        requestId: request.id,
      });
      const body = new PassThrough();
      const limit = request.query.frames;
      let sent = 0;
      reply.raw.on('close', () => view.close('viewer-left'));
      // The viewer may have gone while the camera's first frame was awaited.
      if (reply.raw.destroyed || request.raw.socket.destroyed) view.close('viewer-left');
      body.write(`--${BOUNDARY}\r\n`);
      view.attach({
        frame: (jpeg) => {
          if (body.writableLength > MAX_VIEWER_BUFFER_BYTES) return;
          body.write(part(jpeg));
          sent++;
          if (limit !== undefined && sent >= limit) view.close('frames-delivered');
        },
        end: () => body.end(),
      });
      return reply
        .header('content-type', `multipart/x-mixed-replace; boundary=${BOUNDARY}`)
        .header('cache-control', 'no-store')
        .header('x-live-source', view.source)
        .send(body);
    },
  );
};

/**
 * The live view's relay and routes, for the cameras feature: it uses the audit log and re-checks
 * viewers' sessions with the accounts feature, and ends every view when an account's sessions end.
 */
export function cameraLive(
  ctx: FeatureContext,
  deps: { cameras: CameraStore; policy: CameraAddressPolicy; trust: LiveCameraTrust },
): FastifyPluginAsync {
  const auth = ctx.get('accounts');
  const live = new CameraLiveService({
    cameras: deps.cameras,
    trust: deps.trust,
    policy: deps.policy,
    audit: ctx.get('audit'),
    authenticate: async (credential) =>
      credential.kind === 'token'
        ? auth.authenticateToken(credential.token)
        : ((await auth.authenticateSession(credential.sessionId))?.principal ?? null),
    clock: ctx.clock,
    logger: ctx.logger,
    callTimeoutMs: ctx.config.CAMERA_CALL_TIMEOUT_MS,
  });
  ctx.on('accounts.changed', ({ credentialsEnded }) => {
    if (credentialsEnded) return live.recheck();
  });
  return routePlugin('camera-live-routes', cameraLiveRoutes, { live, cameras: deps.cameras });
}
