// `embedrt/serve`: the embedding server, its own entry point so that the main entry's types and start-up
// never load the HTTP framework (fastify and its logger's declarations stay out of a consumer's build
// unless it imports this).
export { createServer, type EmbedServer, type ServerOptions } from './server.js';
export { tuneMalloc } from './malloc.js';
