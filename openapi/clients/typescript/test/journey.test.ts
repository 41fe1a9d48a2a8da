/**
 * A whole user journey through the TypeScript SDK against a live server.
 * CONDUIT_API_URL is the API base, e.g. http://127.0.0.1:8000/api (tests/sdk starts one).
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { test } from "node:test";

import { type ConduitClient, type Schemas, createConduitClient } from "../src/index.js";

const baseUrl = process.env.CONDUIT_API_URL;
const run = randomUUID().slice(0, 8);

/** The body of a 2xx answer, failing loudly (status and error body) otherwise. */
function ok<T>(result: { data?: T; error?: unknown; response: Response }, status: number): T {
  assert.equal(result.response.status, status, JSON.stringify(result.error));
  assert.ok(result.data !== undefined, "a 2xx answer with a body");
  return result.data;
}

/** The typed RealWorld 2.0 errors of a 4xx answer: `{ key: [message, ...] }`, read by key. */
function failed(
  result: { error?: Schemas["GenericErrorModel"]; response: Response },
  status: number,
): Schemas["GenericErrorModel"]["errors"] {
  assert.equal(result.response.status, status, JSON.stringify(result.error));
  assert.ok(result.error !== undefined, "a 4xx answer has a typed error body");
  const { errors } = result.error;
  assert.ok(Object.keys(errors).length > 0, JSON.stringify(result.error));
  for (const messages of Object.values(errors)) {
    assert.ok(messages.length > 0 && messages.every((m) => typeof m === "string" && m !== ""));
  }
  return errors;
}

async function register(anonymous: ConduitClient, name: string): Promise<Schemas["User"]> {
  const user = { username: `${name}_${run}`, email: `${name}_${run}@example.com`, password: `${name}-password` };
  const { user: created } = ok(await anonymous.POST("/users", { body: { user } }), 201);
  assert.equal(created.username, user.username);
  // 2.0: a profile never filled in has null bio and image.
  assert.equal(created.bio, null);
  assert.equal(created.image, null);
  return created;
}

test("a whole Conduit journey through the TypeScript SDK", async () => {
  assert.ok(baseUrl, "set CONDUIT_API_URL to the API base URL, e.g. http://127.0.0.1:8000/api");
  const anonymous = createConduitClient(baseUrl);
  assert.equal(ok(await anonymous.GET("/ready"), 200).status, "ready");

  // Register two users; the author logs in again with the password.
  const author = await register(anonymous, "ts_author");
  const reader = await register(anonymous, "ts_reader");
  const login = ok(
    await anonymous.POST("/users/login", {
      body: { user: { email: author.email, password: "ts_author-password" } },
    }),
    200,
  );
  const asAuthor = createConduitClient(baseUrl, login.user.token);
  const asReader = createConduitClient(baseUrl, reader.token);
  const wrongPassword = failed(
    await anonymous.POST("/users/login", { body: { user: { email: author.email, password: "not-the-password" } } }),
    401,
  );
  assert.deepEqual(wrongPassword, { credentials: ["invalid"] });

  // Taken names are a 409 keyed by each taken field, the way a frontend shows them.
  const again = (username: string, email: string) =>
    anonymous.POST("/users", { body: { user: { username, email, password: "another-password" } } });
  const sameName = failed(await again(author.username, `other_${run}@example.com`), 409);
  assert.deepEqual(sameName.username, ["has already been taken"]);
  assert.deepEqual(sameName, { username: ["has already been taken"] });
  const sameEmail = failed(await again(`other_${run}`, author.email), 409);
  assert.deepEqual(sameEmail, { email: ["has already been taken"] });
  const both = failed(await again(author.username, author.email), 409);
  assert.deepEqual(both, { username: ["has already been taken"], email: ["has already been taken"] });
  const renameClash = failed(await asReader.PUT("/user", { body: { user: { username: author.username } } }), 409);
  assert.deepEqual(renameClash, { username: ["has already been taken"] });
  console.log("409:", sameName, sameEmail, both);

  // Update the reader's profile, then read it back as the current user.
  const bio = "I read everything twice";
  const updated = ok(await asReader.PUT("/user", { body: { user: { bio, image: "https://example.com/r.png" } } }), 200);
  assert.equal(updated.user.bio, bio);
  assert.equal(ok(await asReader.GET("/user"), 200).user.image, "https://example.com/r.png");

  // The reader follows the author.
  const followed = ok(
    await asReader.POST("/profiles/{username}/follow", { params: { path: { username: author.username } } }),
    200,
  );
  assert.equal(followed.profile.following, true);

  // The author writes an article with tags; it is found by tag, by author and in the reader's feed.
  const tag = `ts-${run}`;
  const { article } = ok(
    await asAuthor.POST("/articles", {
      body: { article: { title: `Typed fetch ${run}`, description: "SDK journey", body: "Hello.", tagList: [tag, "sdk"] } },
    }),
    201,
  );
  assert.deepEqual(article.tagList, [tag, "sdk"].sort());
  const slug = { params: { path: { slug: article.slug } } };

  const byTag = ok(await anonymous.GET("/articles", { params: { query: { tag } } }), 200);
  assert.equal(byTag.articlesCount, 1);
  assert.equal(byTag.articles[0]?.slug, article.slug);
  const byAuthor = ok(await asReader.GET("/articles", { params: { query: { author: author.username } } }), 200);
  assert.deepEqual(byAuthor.articles.map((a) => a.slug), [article.slug]);
  assert.equal(byAuthor.articles[0]?.author.following, true);
  const feed = ok(await asReader.GET("/articles/feed", { params: { query: { limit: 10 } } }), 200);
  assert.ok(feed.articles.some((a) => a.slug === article.slug));

  // Favorite, comment, list comments, delete the comment, unfavorite.
  const favorited = ok(await asReader.POST("/articles/{slug}/favorite", slug), 200);
  assert.equal(favorited.article.favorited, true);
  assert.equal(favorited.article.favoritesCount, 1);

  const { comment } = ok(
    await asReader.POST("/articles/{slug}/comments", { ...slug, body: { comment: { body: "Typed all the way down." } } }),
    201,
  );
  assert.equal(comment.author.username, reader.username);
  const comments = ok(await anonymous.GET("/articles/{slug}/comments", slug), 200);
  assert.deepEqual(comments.comments.map((c) => c.id), [comment.id]);

  // Error paths, each a typed GenericErrorModel keyed by what is at fault: 401, 403, 404, 422.
  const noToken = failed(await anonymous.GET("/user"), 401);
  assert.deepEqual(noToken, { token: ["is missing"] });
  const badToken = failed(await createConduitClient(baseUrl, "not-a-jwt").GET("/user"), 401);
  assert.deepEqual(badToken, { token: ["is invalid"] });
  const notYours = failed(await asReader.DELETE("/articles/{slug}", slug), 403);
  assert.deepEqual(notYours, { article: ["forbidden"] });
  const missing = failed(await anonymous.GET("/articles/{slug}", { params: { path: { slug: `nope-${run}` } } }), 404);
  assert.deepEqual(missing, { article: ["not found"] });
  const invalid = failed(
    await anonymous.POST("/users", { body: { user: { username: `x_${run}`, email: "not-an-email", password: "short" } } }),
    422,
  );
  assert.deepEqual(invalid, { email: ["is invalid"], password: ["is too short (minimum is 8 characters)"] });
  const untitled = failed(
    await asAuthor.POST("/articles", { body: { article: { title: " ", description: "d", body: "b" } } }),
    422,
  );
  assert.deepEqual(untitled.title, ["can't be blank"]);
  assert.deepEqual(untitled, { title: ["can't be blank"] });
  console.log("401:", noToken, badToken, "403:", notYours, "404:", missing, "422:", invalid, untitled);

  const deleted = await asReader.DELETE("/articles/{slug}/comments/{id}", {
    params: { path: { slug: article.slug, id: comment.id } },
  });
  assert.equal(deleted.response.status, 204);
  assert.deepEqual(ok(await anonymous.GET("/articles/{slug}/comments", slug), 200).comments, []);

  const unfavorited = ok(await asReader.DELETE("/articles/{slug}/favorite", slug), 200);
  assert.equal(unfavorited.article.favorited, false);
  assert.equal(unfavorited.article.favoritesCount, 0);

  const unfollowed = ok(
    await asReader.DELETE("/profiles/{username}/follow", { params: { path: { username: author.username } } }),
    200,
  );
  assert.equal(unfollowed.profile.following, false);

  // An empty bio and a null image clear them: null again, on the user and on the profile.
  const cleared = ok(await asReader.PUT("/user", { body: { user: { bio: "", image: null } } }), 200);
  assert.equal(cleared.user.bio, null);
  assert.equal(cleared.user.image, null);
  const profile = ok(
    await anonymous.GET("/profiles/{username}", { params: { path: { username: reader.username } } }),
    200,
  );
  assert.equal(profile.profile.bio, null);
  assert.equal(profile.profile.image, null);

  // The author deletes the article; it is gone.
  assert.equal((await asAuthor.DELETE("/articles/{slug}", slug)).response.status, 204);
  assert.deepEqual(failed(await anonymous.GET("/articles/{slug}", slug), 404), { article: ["not found"] });
  const tags = ok(await anonymous.GET("/tags"), 200);
  assert.ok(!tags.tags.includes(tag));

  // A client holding a whole session refreshes once on a 401 and retries (bodies too);
  // both tokens rotate (the old refresh token is spent).
  const issued = ok(
    await anonymous.POST("/users/login", {
      body: { user: { email: reader.email, password: "ts_reader-password" } },
    }),
    200,
  );
  const spent = issued.user.refreshToken;
  assert.ok(spent !== undefined, "a login starts a session");
  const session = { token: "an-expired-token", refreshToken: spent };
  const asSession = createConduitClient(baseUrl, session);
  const renamed = ok(await asSession.PUT("/user", { body: { user: { bio: "refreshed" } } }), 200);
  assert.equal(renamed.user.bio, "refreshed");
  assert.notEqual(session.refreshToken, spent);
  assert.equal(renamed.user.token, session.token);
  assert.equal(ok(await asSession.GET("/user"), 200).user.token, session.token);

  // Logging out revokes that token only.
  assert.equal((await asAuthor.POST("/users/logout")).response.status, 204);
  assert.deepEqual(failed(await asAuthor.GET("/user"), 401), { token: ["is invalid"] });
  assert.equal(ok(await asReader.GET("/user"), 200).user.username, reader.username);
  console.log(`journey ok: ${author.username} wrote ${article.slug}; ${reader.username} followed, favorited, commented`);
});
