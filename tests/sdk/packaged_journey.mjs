/**
 * A short journey through an *installed* conduit-client (the `npm pack` tarball), in plain ESM.
 *
 * tests/test_sdk_packages.py copies this file into an empty npm project that has only
 * `npm install <tarball>` in it and runs `node packaged_journey.mjs <API base URL>` there, so the
 * bare specifier below resolves to that project's node_modules. Prints one line per step, then a
 * JSON summary (the last line) for the test to check.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";

import { createConduitClient } from "conduit-client";

const apiUrl = process.argv[2];
assert.ok(apiUrl, "usage: node packaged_journey.mjs <API base URL, e.g. http://127.0.0.1:8000/api>");
const run = randomUUID().slice(0, 8);
const [name, email, password] = [`pkg_ts_${run}`, `pkg_ts_${run}@example.com`, "pkg-ts-password"];

/** The body of an answer with the expected status, failing loudly (status and body) otherwise. */
function expect(result, status) {
  const body = result.data ?? result.error;
  assert.equal(result.response.status, status, JSON.stringify(body));
  assert.ok(body !== undefined, `a ${status} answer with a body`);
  return body;
}

const anonymous = createConduitClient(apiUrl);
const signup = expect(await anonymous.POST("/users", { body: { user: { username: name, email, password } } }), 201);
console.log(`201 register ${signup.user.username}`);
const { user } = expect(await anonymous.POST("/users/login", { body: { user: { email, password } } }), 200);
console.log(`200 login ${user.username}`);

const draft = { title: `Packaged ${run}`, description: "tarball", body: "Installed." };
const author = createConduitClient(apiUrl, user.token);
const { article: created } = expect(await author.POST("/articles", { body: { article: draft } }), 201);
console.log(`201 create article ${created.slug}`);
const { article: read } = expect(
  await author.GET("/articles/{slug}", { params: { path: { slug: created.slug } } }),
  200,
);
assert.deepEqual([read.title, read.author.username], [draft.title, name]);
console.log(`200 read article ${read.slug} by ${read.author.username}`);

const again = { username: name, email: `other_${run}@example.com`, password };
const duplicate = await anonymous.POST("/users", { body: { user: again } });
const { errors } = expect(duplicate, 409);
const taken = errors.username; // read by key, the way a client shows it next to the field
console.log(`409 register ${name} again: username ${JSON.stringify(taken)}`);

// Where the import came from, and the version in the package.json above that file.
const resolved = import.meta.resolve("conduit-client");
let manifest = new URL("./package.json", resolved);
for (;;) {
  const found = existsSync(manifest) && JSON.parse(readFileSync(manifest, "utf8"));
  if (found && found.name === "conduit-client") break;
  assert.notEqual(manifest.pathname, "/package.json", `no conduit-client package.json above ${resolved}`);
  manifest = new URL("../package.json", manifest);
}
console.log(
  JSON.stringify({
    resolved,
    manifest: manifest.href,
    package_version: JSON.parse(readFileSync(manifest, "utf8")).version,
    node_version: process.version,
    slug: created.slug,
    read_title: read.title,
    duplicate_status: duplicate.response.status,
    duplicate_errors: errors,
  }),
);
