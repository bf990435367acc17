'use strict';
// Crossdock "trace" behaviour server on the npm jaeger-client 3.x package: the Node peer in
// jaeger_client's crossdock matrix (crossdock/driver.py). Same routes and JSON as the Python
// server (crossdock/server/server.py): GET /, POST /start_trace, POST /join_trace.
//
//   node server.js [--port N]... [--host H] [--propagation jaeger|b3] [--exit-with-stdin]
//
// Default ports are 8080 and 8081; --port 0 picks a free one. Once every port listens, one line
// of JSON is printed to stdout: {"ports": [...]}. Listens on 127.0.0.1 unless --host is given.
// With --exit-with-stdin the server exits when its stdin closes (its parent is gone).

const http = require('http');
const { Tracer, ConstSampler, NoopReporter, ZipkinB3TextMapCodec } = require('jaeger-client');
const opentracing = require('opentracing');

const BAGGAGE_KEY = 'crossdock-baggage-key';
const DOWNSTREAM_TIMEOUT_MS = 10000;

function parseArgs(argv) {
  const args = { ports: [], host: '127.0.0.1', propagation: 'jaeger', exitWithStdin: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = argv[i + 1];
    if (arg === '--port') {
      args.ports.push(Number(value));
      i++;
    } else if (arg === '--host') {
      args.host = value;
      i++;
    } else if (arg === '--exit-with-stdin') {
      args.exitWithStdin = true;
    } else if (arg === '--propagation') {
      args.propagation = value;
      i++;
    } else {
      throw new Error(`unknown argument ${arg}`);
    }
  }
  if (args.ports.length === 0) {
    args.ports = [8080, 8081];
  }
  if (args.propagation !== 'jaeger' && args.propagation !== 'b3') {
    throw new Error(`--propagation must be jaeger or b3, got ${args.propagation}`);
  }
  return args;
}

function makeTracer(propagation) {
  const tracer = new Tracer('node', new NoopReporter(), new ConstSampler(true));
  if (propagation === 'b3') {
    const codec = new ZipkinB3TextMapCodec({ urlEncoding: true });
    tracer.registerInjector(opentracing.FORMAT_HTTP_HEADERS, codec);
    tracer.registerExtractor(opentracing.FORMAT_HTTP_HEADERS, codec);
  }
  return tracer;
}

function observe(span) {
  const context = span.context();
  return {
    traceId: context.traceIdStr,
    sampled: context.isSampled(),
    baggage: span.getBaggageItem(BAGGAGE_KEY) || '',
  };
}

function callDownstream(tracer, span, downstream) {
  return new Promise((resolve, reject) => {
    if (downstream.transport !== 'HTTP') {
      resolve({ notImplementedError: `transport ${downstream.transport} is not supported` });
      return;
    }
    const body = JSON.stringify({
      serverRole: downstream.serverRole,
      downstream: downstream.downstream,
    });
    const headers = { 'content-type': 'application/json' };
    tracer.inject(span.context(), opentracing.FORMAT_HTTP_HEADERS, headers);
    const request = http.request(
      {
        host: downstream.host,
        port: Number(downstream.port),
        path: '/join_trace',
        method: 'POST',
        headers,
        timeout: DOWNSTREAM_TIMEOUT_MS,
      },
      (response) => {
        let data = '';
        response.setEncoding('utf8');
        response.on('data', (chunk) => {
          data += chunk;
        });
        response.on('end', () => {
          if (response.statusCode !== 200) {
            reject(new Error(`downstream ${downstream.serverRole}: HTTP ${response.statusCode}: ${data}`));
            return;
          }
          try {
            resolve(JSON.parse(data));
          } catch (e) {
            reject(e);
          }
        });
      },
    );
    request.on('timeout', () => request.destroy(new Error('downstream timed out')));
    request.on('error', reject);
    request.end(body);
  });
}

async function handleTrace(tracer, path, request, body) {
  let span;
  if (path === '/start_trace') {
    // a new trace: inbound context, if any, is ignored
    span = tracer.startSpan('start_trace');
    span.setBaggageItem(BAGGAGE_KEY, body.baggage);
    span.setTag(opentracing.Tags.SAMPLING_PRIORITY, body.sampled ? 1 : 0);
  } else {
    const parent = tracer.extract(opentracing.FORMAT_HTTP_HEADERS, request.headers);
    span = tracer.startSpan('join_trace', { childOf: parent });
  }
  const response = { span: observe(span), notImplementedError: '' };
  try {
    if (body.downstream) {
      response.downstream = await callDownstream(tracer, span, body.downstream);
    }
  } finally {
    span.finish();
  }
  return response;
}

function reply(response, status, payload) {
  const text = typeof payload === 'string' ? payload : JSON.stringify(payload);
  response.writeHead(status, {
    'content-type': typeof payload === 'string' ? 'text/plain' : 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}

function makeServer(tracer) {
  return http.createServer((request, response) => {
    const path = request.url.split('?')[0];
    if (path === '/' && (request.method === 'GET' || request.method === 'HEAD')) {
      reply(response, 200, '');
      return;
    }
    if (request.method !== 'POST' || (path !== '/start_trace' && path !== '/join_trace')) {
      reply(response, 404, `no route ${request.method} ${path}`);
      return;
    }
    let data = '';
    request.setEncoding('utf8');
    request.on('data', (chunk) => {
      data += chunk;
    });
    request.on('end', () => {
      let body;
      try {
        body = data ? JSON.parse(data) : {};
      } catch (e) {
        reply(response, 400, `invalid JSON: ${e.message}`);
        return;
      }
      handleTrace(tracer, path, request, body).then(
        (payload) => reply(response, 200, payload),
        (error) => reply(response, 500, String(error && error.message ? error.message : error)),
      );
    });
  });
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  const tracer = makeTracer(args.propagation);
  const ports = [];
  let pending = args.ports.length;
  args.ports.forEach((port, index) => {
    const server = makeServer(tracer);
    server.listen(port, args.host, () => {
      ports[index] = server.address().port;
      pending -= 1;
      if (pending === 0) {
        process.stdout.write(`${JSON.stringify({ ports })}\n`);
      }
    });
  });
  if (args.exitWithStdin) {
    // the parent closing our stdin means it is gone: don't outlive it
    process.stdin.on('end', () => process.exit(0));
    process.stdin.resume();
  }
  process.on('SIGTERM', () => process.exit(0));
}

main();
