import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';

export interface TrustRouteDeps {
  /** The certificate people trust (PEM), or null without HTTPS. */
  cert(): string | null;
}

/**
 * `/ca.crt`: the certificate a PC or phone installs to trust this platform's HTTPS (the local
 * authority's when the platform issued its own). Public: it is what a browser already shows.
 */
export const trustRoutes: FastifyPluginAsyncZod<{ deps: TrustRouteDeps }> = async (app, { deps }) => {
  app.get('/ca.crt', { config: { access: 'public' }, schema: { hide: true } }, async (_request, reply) => {
    const cert = deps.cert();
    if (!cert) return reply.code(404).type('text/plain').send('this platform serves plain HTTP\n');
    return reply
      .type('application/x-x509-ca-cert')
      .header('content-disposition', 'attachment; filename="smart-commune-ca.crt"')
      .send(cert);
  });
};
