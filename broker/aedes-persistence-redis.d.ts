// The package ships no types; only what the broker calls is declared.
declare module 'aedes-persistence-redis' {
  interface AedesPersistenceRedisOptions {
    host?: string;
    port?: number;
    username?: string;
    password?: string;
    db?: number;
    tls?: Record<string, never>;
    maxSessionDelivery?: number;
  }
  interface AedesPersistenceRedis {
    destroy(): Promise<void>;
  }
  function aedesPersistenceRedis(options?: AedesPersistenceRedisOptions): AedesPersistenceRedis;
  export default aedesPersistenceRedis;
}
