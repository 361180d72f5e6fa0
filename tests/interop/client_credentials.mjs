// Log in to a Solid-OIDC issuer with @inrupt/solid-client-authn-node's client-credentials flow,
// exactly as its documentation says a script does, then fetch one URL with the session.
//
//   node client_credentials.mjs ISSUER CLIENT_ID CLIENT_SECRET URL
//   (or the environment: OIDC_ISSUER, CLIENT_ID, CLIENT_SECRET, FETCH_URL)
//
// Prints one JSON line:
//   {"webId", "isLoggedIn", "status", "authorization", "dpop"}
// where "authorization" is the scheme of the Authorization header session.fetch() sent (seen by
// wrapping the global fetch(), which the library calls at request time) and "dpop" whether it sent
// a DPoP header. Exits 1 (with {"error": ...} on stdout) if login or the fetch fails.
import { Session } from "@inrupt/solid-client-authn-node";

const [issuerArg, idArg, secretArg, urlArg] = process.argv.slice(2);
const oidcIssuer = issuerArg ?? process.env.OIDC_ISSUER;
const clientId = idArg ?? process.env.CLIENT_ID;
const clientSecret = secretArg ?? process.env.CLIENT_SECRET;
const url = urlArg ?? process.env.FETCH_URL;

function fail(message) {
  process.stdout.write(JSON.stringify({ error: String(message) }) + "\n");
  process.exit(1);
}

if (!oidcIssuer || !clientId || !clientSecret || !url) {
  fail("usage: client_credentials.mjs ISSUER CLIENT_ID CLIENT_SECRET URL");
}

// Record the headers of requests to `url` (the library builds a Headers object and calls fetch()).
const sent = [];
const realFetch = globalThis.fetch;
globalThis.fetch = async (input, init) => {
  const target = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
  if (target === url) {
    sent.push(new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined)));
  }
  return realFetch(input, init);
};

try {
  const session = new Session();
  await session.login({ clientId, clientSecret, oidcIssuer });
  if (!session.info.isLoggedIn) {
    fail(`login returned but the session is not logged in: ${JSON.stringify(session.info)}`);
  }
  const response = await session.fetch(url);
  await response.arrayBuffer();
  const headers = sent.at(-1);
  const authorization = headers?.get("authorization") ?? null;
  process.stdout.write(
    JSON.stringify({
      webId: session.info.webId ?? null,
      isLoggedIn: session.info.isLoggedIn,
      status: response.status,
      authorization: authorization === null ? null : authorization.split(" ")[0],
      dpop: headers?.has("dpop") ?? false,
    }) + "\n",
  );
  await session.logout();
  process.exit(0);
} catch (error) {
  fail(error?.stack ?? error);
}
