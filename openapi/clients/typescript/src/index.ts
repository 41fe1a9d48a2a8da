/** The Conduit API client: openapi-fetch typed by the generated `paths` (src/schema.ts). */
import createClient, { type Client, type Middleware } from "openapi-fetch";

import type { components, paths } from "./schema.js";

export type { components, operations, paths } from "./schema.js";
export type Schemas = components["schemas"];
export type ConduitClient = Client<paths>;

/** Adds `Authorization: Token <jwt>` to every request. */
export function tokenAuth(token: string): Middleware {
  return {
    onRequest({ request }) {
      request.headers.set("Authorization", `Token ${token}`);
      return request;
    },
  };
}

/** A client for the API at `baseUrl` (e.g. `http://127.0.0.1:8000/api`), signed in when given a token. */
export function createConduitClient(baseUrl: string, token?: string): ConduitClient {
  const client = createClient<paths>({ baseUrl });
  if (token !== undefined) {
    client.use(tokenAuth(token));
  }
  return client;
}
