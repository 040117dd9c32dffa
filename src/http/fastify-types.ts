import type { Role } from "../config/load-config.js";
import type { Principal } from "./auth.js";

declare module "fastify" {
  interface FastifyContextConfig {
    /** Least role a route needs; routes without one are public (/health, /metrics, /docs). */
    role?: Role;
    /** The route also accepts `?ticket=` from POST /api/v1/stream-tickets instead of a bearer token (browser EventSource). */
    streamTicket?: boolean;
  }
  interface FastifyInstance {
    /** Live-event (SSE) listeners currently registered; each connected stream holds one until it closes. */
    liveClients(): number;
  }
  interface FastifyRequest {
    /** Who sent the request; null on public routes. */
    principal: Principal | null;
  }
}
