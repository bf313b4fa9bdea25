import type { Logger } from 'pino';
import type { FeatureContext } from '../platform/feature.js';
import type { Cluster } from './cluster-feature.js';
import type { Lease } from './lease.js';

/** A background loop that must run on one instance at a time (docs/scale-out.md). */
export interface SingletonLoop {
  /** Lease taken: go on from what the database holds, as after a restart. */
  resume(): Promise<void> | void;
  /** Lease lost or the platform stops: stop acting; work under way is abandoned and made again by the next holder. */
  pause(): Promise<void> | void;
  /**
   * While held with several instances: look at the database again for work another instance
   * queued (an acknowledgement on the instance that served it, a bulletin receipt).
   */
  recheck?(): void;
}

export interface SingletonRun {
  /** Whether the loop runs here now. */
  running(): boolean;
  /** Pauses the loop for good (the lease itself is stopped by its owner). */
  stop(): Promise<void>;
}

/**
 * Runs `loop` while `lease` is held: resumed at once if it is held now, paused when it is lost,
 * resumed again when it comes back. Changes are applied one after another, never overlapping.
 * With `recheckEveryMs` (several instances) the holder looks for work queued elsewhere on real
 * time, as the lease itself runs on real time.
 */
export function runWhileHeld(
  lease: Lease,
  loop: SingletonLoop,
  options: { logger: Logger; recheckEveryMs?: number | null },
): SingletonRun {
  const logger = options.logger.child({ component: 'singleton-loop', lease: lease.name });
  let running = false;
  let stopped = false;
  let chain: Promise<void> = Promise.resolve();
  const follow = async (held: boolean) => {
    const want = held && !stopped;
    if (want === running) {
      // A new hold after a lapse the renewal did not see: another instance may have run the loop
      // meanwhile, so it resumes from the database again.
      if (want) {
        await loop.pause();
        await loop.resume();
      }
      return;
    }
    running = want;
    if (want) {
      logger.info('singleton loop resumed on this instance');
      await loop.resume();
    } else {
      logger.info('singleton loop paused on this instance');
      await loop.pause();
    }
  };
  const apply = (held: boolean) => {
    chain = chain.then(() =>
      follow(held).catch((err: unknown) =>
        logger.error({ err }, 'a singleton loop could not follow its lease'),
      ),
    );
  };
  const unsubscribe = lease.onChange(apply);
  // Held now (always, for a single instance): resumed before this returns, as a plain start was.
  if (lease.held()) {
    running = true;
    const resuming = loop.resume();
    if (resuming)
      chain = chain.then(() =>
        resuming.catch((err: unknown) => logger.error({ err }, 'a singleton loop could not resume')),
      );
  }
  const every = options.recheckEveryMs;
  const timer =
    every && every > 0
      ? setInterval(() => {
          if (!running || !lease.held()) return;
          try {
            loop.recheck?.();
          } catch (err) {
            logger.error({ err }, 'a singleton loop could not look for queued work');
          }
        }, every)
      : null;
  timer?.unref();
  return {
    running: () => running,
    async stop() {
      stopped = true;
      unsubscribe();
      if (timer) clearInterval(timer);
      apply(false);
      await chain;
    },
  };
}

/** A singleton loop owned by a feature, with what ends it for good when the feature stops. */
export interface OwnedLoop extends SingletonLoop {
  stop(): Promise<void> | void;
}

/** A feature's singleton loop on a lease of its own. */
export interface HeldLoop {
  /** Starts the lease, then runs the loop while it is held. */
  start(): Promise<void>;
  /**
   * Pauses the loop, stops it, then releases the lease, so the next holder finds its work settled;
   * the loop is stopped and the lease released even when `start` never ran.
   */
  stop(): Promise<void>;
}

/**
 * Runs `loop` while this instance holds the lease `name` of the `cluster` feature (always, for a
 * single instance). With several instances the holder rechecks every lease lifetime, when the loop
 * can recheck.
 */
export function heldLoop(
  ctx: Pick<FeatureContext, 'get' | 'logger'>,
  name: string,
  loop: OwnedLoop,
): HeldLoop {
  const cluster: Cluster = ctx.get('cluster');
  const lease = cluster.lease(name);
  const recheckEveryMs = loop.recheck && cluster.redis ? cluster.leaseMs : null;
  let run: SingletonRun | null = null;
  return {
    async start() {
      await lease.start();
      run = runWhileHeld(lease, loop, { logger: ctx.logger, recheckEveryMs });
    },
    async stop() {
      const running = run;
      run = null;
      await running?.stop();
      await loop.stop();
      await lease.stop();
    },
  };
}
