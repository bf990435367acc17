'use strict';
// Header interop peer: what the npm jaeger-client writes and reads, for tests/test_interop_node.py.
//
// stdin: a JSON array of cases; stdout: a JSON array of results, one per case, same order.
//
//   {"op": "root", "codec": "jaeger"|"b3", "traceId128bit": bool, "sampled": bool,
//    "debugId": str?, "baggage": {k: v}}
//     -> {"headers": {...}, "traceId": hex, "spanId": hex, "sampled": bool}
//        a new trace: a root span with that baggage, injected as HTTP_HEADERS
//   {"op": "inject", "codec": "jaeger"|"b3", "traceIdHex": hex, "spanIdHex": hex,
//    "parentIdHex": hex?, "flags": int, "baggage": {k: v}}
//     -> {"headers": {...}}
//        a context holding binary ids, as Node's own spans do (ids of its choosing, so a test can
//        pick ones with leading zeros), injected as HTTP_HEADERS
//   {"op": "child", "codec": "jaeger"|"b3", "headers": {...}}
//     -> {"extracted": {"valid", "traceId", "spanId", "parentId", "flags", "baggage", "debugId"},
//         "child": {"headers", "traceId", "spanId", "parentId", "sampled"}}
//        extract the headers (names lower-cased, as Node's HTTP server hands them over), then
//        start a child span and inject it
//
// Ids are reported twice over: "traceId" etc. as Node's context holds them (the string it
// writes), and "traceIdHex" etc. from the id buffers (canonical, zero-padded).

const {
  Tracer,
  ConstSampler,
  InMemoryReporter,
  SpanContext,
  ZipkinB3TextMapCodec,
} = require('jaeger-client');
const opentracing = require('opentracing');

function makeTracer(codecName, sampled, traceId128bit) {
  const tracer = new Tracer('node-peer', new InMemoryReporter(), new ConstSampler(sampled), {
    traceId128bit,
  });
  if (codecName === 'b3') {
    const codec = new ZipkinB3TextMapCodec({ urlEncoding: true });
    tracer.registerInjector(opentracing.FORMAT_HTTP_HEADERS, codec);
    tracer.registerExtractor(opentracing.FORMAT_HTTP_HEADERS, codec);
  } else if (codecName !== 'jaeger') {
    throw new Error(`unknown codec ${codecName}`);
  }
  return tracer;
}

function hex(buffer) {
  return buffer ? buffer.toString('hex') : null;
}

function describeSpan(tracer, span) {
  const context = span.context();
  const headers = {};
  tracer.inject(context, opentracing.FORMAT_HTTP_HEADERS, headers);
  return {
    headers,
    traceId: context.traceIdStr,
    spanId: context.spanIdStr,
    parentId: context.parentIdStr || null,
    traceIdHex: hex(context.traceId),
    spanIdHex: hex(context.spanId),
    parentIdHex: hex(context.parentId),
    sampled: context.isSampled(),
    debug: context.isDebug(),
  };
}

function runCase(item) {
  if (item.op === 'root') {
    const tracer = makeTracer(item.codec, item.sampled !== false, !!item.traceId128bit);
    const span = tracer.startSpan('root');
    for (const [key, value] of Object.entries(item.baggage || {})) {
      span.setBaggageItem(key, value);
    }
    const result = describeSpan(tracer, span);
    span.finish();
    return result;
  }
  if (item.op === 'inject') {
    const tracer = makeTracer(item.codec, true, false);
    const context = SpanContext.withBinaryIds(
      Buffer.from(item.traceIdHex, 'hex'),
      Buffer.from(item.spanIdHex, 'hex'),
      item.parentIdHex ? Buffer.from(item.parentIdHex, 'hex') : null,
      item.flags,
      item.baggage || {},
    );
    const headers = {};
    tracer.inject(context, opentracing.FORMAT_HTTP_HEADERS, headers);
    return { headers };
  }
  if (item.op === 'child') {
    // the sampler is not consulted for a child of a valid context
    const tracer = makeTracer(item.codec, true, false);
    const headers = {};
    for (const [key, value] of Object.entries(item.headers)) {
      headers[key.toLowerCase()] = value;
    }
    const context = tracer.extract(opentracing.FORMAT_HTTP_HEADERS, headers);
    const extracted = {
      valid: !!(context && context.isValid),
      traceId: context ? context.traceIdStr || null : null,
      spanId: context ? context.spanIdStr || null : null,
      parentId: context ? context.parentIdStr || null : null,
      traceIdHex: context && context.isValid ? hex(context.traceId) : null,
      spanIdHex: context && context.isValid ? hex(context.spanId) : null,
      flags: context ? context.flags : null,
      baggage: context ? context.baggage : {},
      debugId: context ? context.debugId || '' : '',
    };
    const span = tracer.startSpan('child', { childOf: context });
    const child = describeSpan(tracer, span);
    span.finish();
    return { extracted, child };
  }
  throw new Error(`unknown op ${item.op}`);
}

function main() {
  let input = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk) => {
    input += chunk;
  });
  process.stdin.on('end', () => {
    const cases = JSON.parse(input);
    const results = cases.map((item) => {
      try {
        return runCase(item);
      } catch (e) {
        return { error: String(e && e.stack ? e.stack : e) };
      }
    });
    process.stdout.write(JSON.stringify(results));
  });
}

main();
