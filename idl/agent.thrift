# The agent's UDP service (compact protocol on 6831, binary on 6832), from shared/reference/WIRE.md.
# emitZipkinBatch is left out: this client never sends Zipkin spans.

include "jaeger.thrift"

namespace py agent

service Agent {
  oneway void emitBatch(1: jaeger.Batch batch)
}
