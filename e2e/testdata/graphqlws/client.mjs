// Runs graphql-ws's own client against the gateway, as a GraphQL UI does:
// one refused operation (a mutation a viewer may not run) and one allowed
// subscription on the same client. Prints one JSON line: what each
// operation got, and how often the client connected and saw the socket
// close (a refused operation must not make it reconnect).
//
// Usage: node client.mjs WS_URL COOKIE_HEADER
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const [url, cookie] = process.argv.slice(2);

class CookieWebSocket extends WebSocket {
  constructor(address, protocols) {
    super(address, protocols, { headers: { Cookie: cookie } });
  }
}

const stats = { connected: 0, closed: 0, closeCodes: [] };
const client = createClient({
  url,
  webSocketImpl: CookieWebSocket,
  retryAttempts: 5,
  retryWait: () => new Promise((resolve) => setTimeout(resolve, 100)),
  on: {
    connected: () => { stats.connected++; },
    closed: (event) => { stats.closed++; stats.closeCodes.push(event.code); },
  },
});

function run(query) {
  return new Promise((resolve) => {
    const result = { next: [], error: null, complete: false };
    client.subscribe({ query }, {
      next: (value) => result.next.push(value),
      error: (err) => {
        result.error = Array.isArray(err) ? err : { message: String(err && (err.reason || err.message || err.code || err)) };
        resolve(result);
      },
      complete: () => { result.complete = true; resolve(result); },
    });
  });
}

const timer = setTimeout(() => {
  console.log(JSON.stringify({ timeout: true, stats }));
  process.exit(2);
}, 20000);

const refused = await run('mutation Remove { deleteRun(id: "1") }');
const allowed = await run('subscription { runEvents }');
// Give a reconnect loop the time to show itself.
await new Promise((resolve) => setTimeout(resolve, 500));
const before = { ...stats };
await client.dispose();
clearTimeout(timer);
console.log(JSON.stringify({ refused, allowed, stats: before }));
