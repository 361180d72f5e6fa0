// Watch a resource on a Solid pod and log each change (Solid Notifications Protocol,
// WebSocketChannel2023). Runs in browsers and in Node.js 22+ (Node 20: --experimental-websocket).
//
//   node docs/examples/notifications.mjs http://localhost:3000/notes/todo.ttl
//
// For a private resource, pass the authenticated fetch of your Solid-OIDC library (for example
// `session.fetch` from @inrupt/solid-client-authn-browser) as `fetchFn`. The WebSocket itself
// needs no credentials: its URL is the capability.

const NOTIFY = "http://www.w3.org/ns/solid/notifications#";
const STORAGE_DESCRIPTION = "http://www.w3.org/ns/solid/terms#storageDescription";

export async function websocketService(topic, fetchFn = fetch) {
  // Discovery: the topic's storage description lists the subscription services.
  const head = await fetchFn(topic, { method: "HEAD" });
  const link = (head.headers.get("link") ?? "")
    .split(",")
    .find((part) => part.includes(`rel="${STORAGE_DESCRIPTION}"`));
  if (!link) throw new Error("no storage description for " + topic);
  const descriptionUrl = new URL(link.slice(link.indexOf("<") + 1, link.indexOf(">")), topic).href;
  const answer = await fetchFn(descriptionUrl, { headers: { accept: "application/ld+json" } });
  const description = await answer.json();
  const nodes = description["@graph"] ?? [description];
  const service = nodes.find((node) => {
    const type = node[NOTIFY + "channelType"] ?? node.channelType;
    return [type].flat().some((t) => (t?.["@id"] ?? t) === NOTIFY + "WebSocketChannel2023");
  });
  if (!service) throw new Error("this storage offers no WebSocketChannel2023 subscriptions");
  return service["@id"];
}

// Subscribe to `topic`; `onChange` gets each notification (an Activity Streams 2.0 activity).
// Resolves to the open WebSocket; close it to stop.
export async function watch(topic, onChange, { fetchFn = fetch, features = {} } = {}) {
  const answer = await fetchFn(await websocketService(topic, fetchFn), {
    method: "POST",
    headers: { "content-type": "application/ld+json" },
    body: JSON.stringify({
      "@context": ["https://www.w3.org/ns/solid/notification/v1"],
      type: NOTIFY + "WebSocketChannel2023",
      topic,
      ...features, // e.g. { rate: "PT5S" }
    }),
  });
  if (!answer.ok) throw new Error(`subscription refused: ${answer.status} ${await answer.text()}`);
  const channel = await answer.json();
  const socket = new WebSocket(channel.receiveFrom);
  socket.addEventListener("message", (event) => onChange(JSON.parse(event.data)));
  await new Promise((resolve, reject) => {
    socket.addEventListener("open", resolve, { once: true });
    socket.addEventListener("error", reject, { once: true });
  });
  return socket;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await watch(process.argv[2], (activity) =>
    console.log(activity.published, activity.type, activity.object, activity.state ?? ""),
  );
}
