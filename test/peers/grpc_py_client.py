"""A gateway played by Debian's grpcio (C-core) xDS client, for Proxima's interop tests.

Run with /usr/bin/python3 and GRPC_XDS_BOOTSTRAP pointing at a bootstrap file that carries this
client's node identity. No generated code: a generic unary call with identity serializers.
Protocol on stdin/stdout, one JSON object a line (same as grpcjs-client.ts):
  {"cmd":"run","n":200,"timeoutMs":5000} -> {"counts":{"backend-a":190},"errors":{"14":3}}
  {"cmd":"exit"}
Usage: grpc_py_client.py xds:///host
"""
import json
import sys

import grpc

WHO_METHOD = "/proxima.test.Echo/Who"


def main():
    if len(sys.argv) != 2:
        sys.stderr.write("usage: grpc_py_client.py xds:///host\n")
        return 2
    channel = grpc.insecure_channel(sys.argv[1])
    who = channel.unary_unary(WHO_METHOD, request_serializer=None, response_deserializer=None)
    for line in sys.stdin:
        msg = json.loads(line)
        if msg.get("cmd") == "exit":
            break
        if msg.get("cmd") != "run":
            continue
        counts, errors = {}, {}
        timeout_s = msg.get("timeoutMs", 5000) / 1000.0
        for _ in range(msg.get("n", 1)):
            try:
                name = who(b"", timeout=timeout_s, wait_for_ready=True).decode("utf-8")
                counts[name] = counts.get(name, 0) + 1
            except grpc.RpcError as err:
                code = str(err.code().value[0])
                errors[code] = errors.get(code, 0) + 1
        sys.stdout.write(json.dumps({"counts": counts, "errors": errors}) + "\n")
        sys.stdout.flush()
    channel.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
