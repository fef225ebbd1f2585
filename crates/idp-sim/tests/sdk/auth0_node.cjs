// Drives the simulator with Auth0's official Node SDK (node-auth0 v7, Management API only)
// on its defaults: https and the ManagementClient's own token provider with its default
// audience `https://{domain}/api/v2/`.
//
// Usage: node auth0_node.cjs SIM_BASE_URL TLS_PORT CERT_PEM KEY_PEM  (with
// NODE_EXTRA_CA_CERTS=CERT_PEM so the SDK trusts the throw-away TLS front, and NODE_PATH
// pointing at the installed SDK). The front on 127.0.0.1:TLS_PORT forwards to the plain-http
// simulator, whose canonical domain is that front. Exits non-zero on the first mismatch.
"use strict";

const fs = require("fs");
const net = require("net");
const tls = require("tls");
const assert = require("assert");
const { ManagementClient, ManagementError } = require("auth0");

const CONNECTION = "Username-Password-Authentication";

async function expectError(call, status, check = () => true) {
  try {
    await call();
  } catch (error) {
    assert.ok(error instanceof ManagementError, String(error));
    assert.strictEqual(error.statusCode, status, JSON.stringify(error.body));
    assert.ok(check(error), JSON.stringify(error.body));
    return error;
  }
  throw new Error(`expected HTTP ${status}`);
}

async function main() {
  const [base, tlsPort, certPath, keyPath] = process.argv.slice(2);
  const upstream = new URL(base);
  const front = tls.createServer(
    { cert: fs.readFileSync(certPath), key: fs.readFileSync(keyPath) },
    (client) => {
      const backend = net.connect(Number(upstream.port), upstream.hostname);
      client.pipe(backend).pipe(client);
      client.on("error", () => backend.destroy());
      backend.on("error", () => client.destroy());
    },
  );
  await new Promise((resolve) => front.listen(Number(tlsPort), "127.0.0.1", resolve));
  const domain = `127.0.0.1:${tlsPort}`;

  const client = new ManagementClient({ domain, clientId: "sim-client", clientSecret: "sim-secret" });
  const users = await client.users.listUsersByEmail({ email: "jane@example.com" });
  assert.strictEqual(users.length, 1, JSON.stringify(users));
  const jane = users[0];
  assert.strictEqual(jane.identities[0].connection, CONNECTION);
  assert.deepStrictEqual(await client.users.listUsersByEmail({ email: "nobody@example.com" }), []);

  await expectError(
    () => client.users.update(jane.user_id, { password: "short", connection: CONNECTION }),
    400,
    (e) => e.body.message === "PasswordStrengthError: Password is too weak",
  );
  const updated = await client.users.update(jane.user_id, {
    password: "Blue-Harbour-Lamp-42",
    connection: CONNECTION,
  });
  assert.ok(updated.last_password_reset, JSON.stringify(updated));

  const ticket = await client.tickets.changePassword({ user_id: jane.user_id, ttl_sec: 3600 });
  assert.ok(ticket.ticket.includes("/u/reset-password?ticket="), JSON.stringify(ticket));
  await expectError(
    () => client.tickets.changePassword({ user_id: jane.user_id, client_id: "no-such-app" }),
    400,
    (e) => e.body.message === "The client does not exist",
  );

  front.close();
  console.log("node-auth0: all checks passed");
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
