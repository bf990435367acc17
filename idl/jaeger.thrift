# Jaeger span model, written for this project from the field table in shared/reference/WIRE.md.
# Regenerate jaeger_client/thrift_gen/ with `make thrift`; never edit the generated code by hand.

namespace py jaeger

enum TagType { STRING = 0, DOUBLE = 1, BOOL = 2, LONG = 3, BINARY = 4 }

struct Tag {
  1: required string  key
  2: required TagType vType
  3: optional string  vStr
  4: optional double  vDouble
  5: optional bool    vBool
  6: optional i64     vLong
  7: optional binary  vBinary
}

# A timestamped event; timestamp is microseconds since the epoch.
struct Log {
  1: required i64       timestamp
  2: required list<Tag> fields
}

enum SpanRefType { CHILD_OF = 0, FOLLOWS_FROM = 1 }

struct SpanRef {
  1: required SpanRefType refType
  2: required i64         traceIdLow
  3: required i64         traceIdHigh
  4: required i64         spanId
}

# Ids are unsigned on the API side and travel as signed i64 (two's complement).
struct Span {
  1:  required i64           traceIdLow
  2:  required i64           traceIdHigh    # 0 for 64-bit trace ids
  3:  required i64           spanId
  4:  required i64           parentSpanId   # 0 for a root span
  5:  required string        operationName
  6:  optional list<SpanRef> references
  7:  required i32           flags          # 1 sampled, 2 debug
  8:  required i64           startTime      # microseconds since the epoch
  9:  required i64           duration       # microseconds
  10: optional list<Tag>     tags
  11: optional list<Log>     logs
}

struct Process {
  1: required string    serviceName
  2: optional list<Tag> tags
}

# Client-side loss, sent with every batch so the backend can see it.
struct ClientStats {
  1: required i64 fullQueueDroppedSpans
  2: required i64 tooLargeDroppedSpans
  3: required i64 failedToEmitSpans
}

struct Batch {
  1: required Process     process
  2: required list<Span>  spans
  3: optional i64         seqNo
  4: optional ClientStats stats
}

struct BatchSubmitResponse {
  1: required bool ok
}

service Collector {
  list<BatchSubmitResponse> submitBatches(1: list<Batch> batches)
}
