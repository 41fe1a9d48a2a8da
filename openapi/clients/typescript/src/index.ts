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

/** A session's tokens, as login, registration and `RefreshToken` return them. */
export interface Session {
  token: string;
  refreshToken: string;
}

/**
 * Signs every request with the session's token; on a 401 it refreshes the session once
 * (both tokens rotate: `session` is updated in place, then `onRefresh` is told, to persist
 * them) and retries the request with the new token. Concurrent 401s share one refresh.
 */
export function refreshingAuth(
  baseUrl: string,
  session: Session,
  onRefresh?: (session: Session) => void,
): Middleware {
  const copies = new WeakMap<Request, Request>();
  let refreshing: Promise<boolean> | undefined;

  async function refresh(): Promise<boolean> {
    const response = await fetch(`${baseUrl}/users/token/refresh`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ refreshToken: session.refreshToken }),
    });
    if (!response.ok) {
      return false;
    }
    const { user } = (await response.json()) as { user: Session };
    session.token = user.token;
    session.refreshToken = user.refreshToken;
    onRefresh?.(session);
    return true;
  }

  return {
    onRequest({ request }) {
      request.headers.set("Authorization", `Token ${session.token}`);
      copies.set(request, request.clone()); // a body can be sent once: keep one for the retry
      return request;
    },
    async onResponse({ request, response }) {
      const retry = copies.get(request);
      copies.delete(request);
      if (response.status !== 401 || retry === undefined) {
        return response;
      }
      const sentWith = request.headers.get("Authorization");
      if (sentWith === `Token ${session.token}`) {
        refreshing ??= refresh().finally(() => {
          refreshing = undefined;
        });
        if (!(await refreshing)) {
          return response;
        }
      }
      retry.headers.set("Authorization", `Token ${session.token}`);
      return fetch(retry);
    },
  };
}

/**
 * A client for the API at `baseUrl` (e.g. `http://127.0.0.1:8000/api`), signed in when given
 * a token, or a whole session (then it refreshes on a 401 and retries once: `refreshingAuth`).
 */
export function createConduitClient(baseUrl: string, token?: string | Session): ConduitClient {
  const client = createClient<paths>({ baseUrl });
  if (typeof token === "string") {
    client.use(tokenAuth(token));
  } else if (token !== undefined) {
    client.use(refreshingAuth(baseUrl, token));
  }
  return client;
}
