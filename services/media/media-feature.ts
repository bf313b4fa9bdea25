import { join } from 'node:path';
import type { Logger } from 'pino';
import { routePlugin } from '../api/route-plugin.js';
import type { Feature } from '../platform/feature.js';
import { lanAddress, type MediaBase, mediaBaseUrl } from './media-base-url.js';
import { MediaLibrary } from './media-library.js';
import { mediaRoutes } from './media-routes.js';

/** What another feature does with media items: kept from deletion while used; devices it sent them to. */
export interface MediaUse {
  /** Names of what still uses the item (empty when nothing does): a used item is not deleted. */
  references(mediaId: string): string[];
  /** Whether a device was sent the item to play lately, and may download it with its own secret. */
  sentTo?(deviceId: string, mediaId: string, now: number): boolean;
  /** Whether the signed links made for this broadcast stopped working (it was stopped). */
  linkRevoked?(broadcastId: string): boolean;
}

declare module '../platform/feature.js' {
  interface Provides {
    media: {
      library: MediaLibrary;
      /** Where clusters download media from, how it was chosen, and a warning when they probably cannot. */
      base(): MediaBase;
      addUse(use: MediaUse): void;
    };
  }
}

/**
 * The audio library: uploads checked for what they are and how long they play, `/media`, and the
 * downloads clusters make with a signed link or their own credential.
 */
export function mediaFeature(): Feature<'media'> {
  let base: (() => MediaBase) | null = null;
  let announce: Logger | null = null;
  let started: MediaLibrary | null = null;
  return {
    name: 'media',
    dependsOn: ['storage', 'registry'],
    async start(ctx) {
      const { config, clock, logger, options, endpoints } = ctx;
      const { db, disk, state } = ctx.get('storage');
      const uses: MediaUse[] = [];
      let lan: string | null | undefined;
      const mediaBase = (): MediaBase => {
        const server = endpoints.mediaServer();
        if (server === null) throw new Error('HTTP server not listening');
        // A host given by the caller (the demo's clusters run on this PC) is used as HTTP_HOST would be.
        if (options.mediaHost && !config.PUBLIC_BASE_URL)
          return mediaBaseUrl({ ...config, HTTP_HOST: options.mediaHost }, server.port, null, server.scheme);
        lan ??= lanAddress();
        return mediaBaseUrl(config, server.port, lan, server.scheme);
      };
      base = mediaBase;
      announce = logger;
      const library = new MediaLibrary({
        db,
        state,
        clock,
        logger,
        dir: join(config.DATA_DIR, 'media'),
        maxBytes: config.MEDIA_MAX_MB * 1024 * 1024,
        // Read per link: the port is only known once the server listens (0 in tests).
        baseUrl: () => mediaBase().url,
        signingKey: await ctx.get('storage').key('media-signing.key'),
        isReferenced: (id) => uses.flatMap((use) => use.references(id)),
      });
      started = library;
      await library.start();
      ctx.routes(
        routePlugin('media-routes', mediaRoutes, {
          media: library,
          registry: ctx.get('registry'),
          clock,
          disk,
          events: ctx.events,
          sentTo: (deviceId, mediaId, now) => uses.some((use) => use.sentTo?.(deviceId, mediaId, now)),
          linkRevoked: (broadcastId) => uses.some((use) => use.linkRevoked?.(broadcastId)),
        }),
      );
      return { library, base: mediaBase, addUse: (use) => uses.push(use) };
    },
    // Once the API listens, the URL is known: said once, as a warning when clusters probably cannot reach it.
    ready() {
      if (!base || !announce) return;
      const { url, source, warning } = base();
      if (warning) announce.warn({ mediaBaseUrl: url }, warning);
      else announce.info({ mediaBaseUrl: url, source }, 'clusters download media from here');
    },
    async stop() {
      base = null;
      await started?.stop();
      started = null;
    },
    health() {
      if (!base) return {};
      const { url, source, warning } = base();
      return { media: { baseUrl: url, source, warning } };
    },
  };
}
