// SPDX-License-Identifier: MIT
// A minimal Node.js SSE broadcaster, the baseline bench/sse/run measures
// contentd against: the plain `http` module, no dependencies, the way such a
// hub is usually written.  GET on any other path subscribes (headers are
// sent at once, then events); POST /publish takes the request body as one
// event's data, serialises the event once and writes it to every open
// response.  Answers 204 once every write has been handed to the sockets.
//
// usage: node node-broadcaster.mjs --port P [--host 127.0.0.1]
import http from 'node:http';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
};
const host = opt('--host', '127.0.0.1');
const port = Number(opt('--port', '8090'));

const subscribers = new Set();
let seq = 0;

function subscribe(req, res) {
  res.writeHead(200, {
    'Content-Type': 'text/event-stream',
    'Cache-Control': 'no-cache',
    'X-Accel-Buffering': 'no',
  });
  res.write('retry: 2000\n\n');
  subscribers.add(res);
  const drop = () => subscribers.delete(res);
  req.on('close', drop);
  res.on('error', drop);
}

function publish(req, res) {
  const parts = [];
  req.on('data', (c) => parts.push(c));
  req.on('end', () => {
    seq += 1;
    const data = Buffer.concat(parts).toString('utf8').replace(/\r?\n/g, '\ndata: ');
    const event = `id: ${seq}\nevent: update\ndata: ${data}\n\n`;
    for (const sub of subscribers) sub.write(event);
    res.writeHead(204);
    res.end();
  });
}

const server = http.createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/publish') publish(req, res);
  else if (req.method === 'GET' && req.url === '/healthz') res.end('ok\n');
  else if (req.method === 'GET') subscribe(req, res);
  else {
    res.writeHead(405);
    res.end();
  }
});
// A subscription lasts as long as the run; none of Node's timeouts apply.
server.requestTimeout = 0;
server.headersTimeout = 0;
server.keepAliveTimeout = 0;
server.timeout = 0;
server.listen(port, host, 4096, () => {
  process.stdout.write(`listening http://${host}:${port}\n`);
});
const stop = () => {
  for (const sub of subscribers) sub.end();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 500).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
