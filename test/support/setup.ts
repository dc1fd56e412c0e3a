// aws-local-stepfunctions calls Promise.withResolvers, which Node 20 lacks.
import '../../lib/adapters/local/promise-with-resolvers.js';
