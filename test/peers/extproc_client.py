#!/usr/bin/python3
"""An independent ext_proc client (Envoy's side of envoy.service.ext_proc.v3.ExternalProcessor/Process)
for Proxima's interop tests: Debian's python3-grpcio (C-core) and python3-protobuf with classes protoc
generated from Envoy's own .proto files, so nothing is shared with Proxima's protobufjs codec.

Usage: extproc_client.py GEN_DIR TARGET SCENARIO_JSON_FILE
  GEN_DIR  directory with the protoc --python_out output (envoy/service/ext_proc/v3/...)
  TARGET   host:port of the ext_proc server

Scenario: {"streams": [{"metadata": [[k, v]], "steps": [step, ...]}, ...]}; streams run one after
another unless "parallel": true (then all are started, each runs its steps in its own thread).
Steps:
  {"send": "request_headers"|"response_headers"|"request_body", "headers": [[k, v]], "raw": true,
   "end_of_stream": false}         encode and send one ProcessingRequest
  {"send_hex": "ff01"}             send raw bytes as one message (malformed input)
  {"send_empty": true}             send a ProcessingRequest with no oneof field set
  {"recv": true}                   wait (<= 5 s) for one ProcessingResponse
  {"pause": "name"}                print {"event": "paused", "name": ...} and wait for a stdin line
  {"cancel": true}                 cancel the RPC (the stream is cut mid-request)
  {"close": true}                  half-close and collect any remaining responses
Prints one JSON line per pause and finally {"event": "result", "streams": [...]}, where each stream
has "responses" (MessageToDict, proto field names) and "error" (gRPC status name or null).
"""
import json
import queue
import sys
import threading

GEN_DIR, TARGET, SCENARIO = sys.argv[1], sys.argv[2], sys.argv[3]
sys.path.insert(0, GEN_DIR)

import grpc  # noqa: E402
from google.protobuf.json_format import MessageToDict  # noqa: E402
from envoy.service.ext_proc.v3 import external_processor_pb2 as ep  # noqa: E402
from envoy.config.core.v3 import base_pb2  # noqa: E402

METHOD = "/envoy.service.ext_proc.v3.ExternalProcessor/Process"
print_lock = threading.Lock()


def emit(obj):
    with print_lock:
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()


def header_map(pairs, raw):
    hm = base_pb2.HeaderMap()
    for k, v in pairs:
        h = hm.headers.add()
        h.key = k
        if raw:
            h.raw_value = v.encode("utf-8")
        else:
            h.value = v
    return hm


def encode_step(step):
    if "send_hex" in step:
        return bytes.fromhex(step["send_hex"])
    req = ep.ProcessingRequest()
    if step.get("send_empty"):
        return req.SerializeToString()
    kind = step["send"]
    if kind in ("request_headers", "response_headers"):
        hh = getattr(req, kind)
        hh.headers.CopyFrom(header_map(step.get("headers", []), step.get("raw", True)))
        hh.end_of_stream = bool(step.get("end_of_stream", False))
    elif kind in ("request_body", "response_body"):
        b = getattr(req, kind)
        b.body = step.get("body", "").encode("utf-8")
        b.end_of_stream = True
    else:
        raise ValueError("unknown send kind " + kind)
    return req.SerializeToString()


def run_stream(channel, spec, stdin_lock):
    out = {"responses": [], "error": None}
    q = queue.Queue()
    call = channel.stream_stream(
        METHOD,
        request_serializer=lambda b: b,
        response_deserializer=ep.ProcessingResponse.FromString,
    )(iter(q.get, None), metadata=[tuple(m) for m in spec.get("metadata", [])])
    responses = []
    done = threading.Event()

    def reader():
        try:
            for r in call:
                responses.append(r)
        except grpc.RpcError as e:  # cancelled or failed
            out["error"] = e.code().name
        finally:
            done.set()

    threading.Thread(target=reader, daemon=True).start()
    for step in spec["steps"]:
        if "recv" in step:
            want = len(out["responses"]) + 1
            for _ in range(500):
                if len(responses) >= want or done.is_set():
                    break
                threading.Event().wait(0.01)
            out["responses"] = [MessageToDict(r, preserving_proto_field_name=True) for r in responses]
        elif "pause" in step:
            with stdin_lock:
                emit({"event": "paused", "name": step["pause"]})
                sys.stdin.readline()
        elif "cancel" in step:
            call.cancel()
            done.wait(5)
        elif "close" in step:
            q.put(None)
            done.wait(5)
        else:
            q.put(encode_step(step))
    if not done.is_set():
        q.put(None)
        done.wait(5)
    out["responses"] = [MessageToDict(r, preserving_proto_field_name=True) for r in responses]
    return out


def main():
    with open(SCENARIO) as f:
        scenario = json.load(f)
    channel = grpc.insecure_channel(TARGET)
    grpc.channel_ready_future(channel).result(timeout=5)
    stdin_lock = threading.Lock()
    streams = scenario["streams"]
    results = [None] * len(streams)
    if scenario.get("parallel"):
        def run(i):
            results[i] = run_stream(channel, streams[i], stdin_lock)
        threads = [threading.Thread(target=run, args=(i,)) for i in range(len(streams))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(15)
    else:
        for i, s in enumerate(streams):
            results[i] = run_stream(channel, s, stdin_lock)
    emit({"event": "result", "streams": results})
    channel.close()


if __name__ == "__main__":
    main()
