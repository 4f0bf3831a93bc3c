"""One ADS request over (m)TLS from Debian's grpcio (C-core), for Proxima's transport-security tests.

Run with /usr/bin/python3. No generated code: the DiscoveryRequest is encoded by hand (protobuf wire
format: DiscoveryRequest{node=2, type_url=4}, Node{id=1, locality=4}, Locality{sub_zone=3}) and the
response is returned as raw bytes. Prints one JSON line: {"ok": true, "bytes": N} or
{"ok": false, "code": "PERMISSION_DENIED", "details": "..."}.
Usage: mtls_ads_client.py TARGET CA_FILE CLIENT_CERT|- CLIENT_KEY|- NODE
"""
import json
import sys
import threading

import grpc

ADS = "/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources"
CDS = "type.googleapis.com/envoy.config.cluster.v3.Cluster"


def field(number, payload):
    """A length-delimited field (wire type 2); lengths here stay below 2^14."""
    n = len(payload)
    length = bytes([n]) if n < 128 else bytes([(n & 0x7F) | 0x80, n >> 7])
    return bytes([(number << 3) | 2]) + length + payload


def discovery_request(node):
    locality = field(3, node.encode())
    node_msg = field(1, node.encode()) + field(4, locality)
    return field(2, node_msg) + field(4, CDS.encode())


def main():
    target, ca_file, cert_file, key_file, node = sys.argv[1:6]
    with open(ca_file, "rb") as f:
        ca = f.read()
    cert = key = None
    if cert_file != "-":
        with open(cert_file, "rb") as f:
            cert = f.read()
        with open(key_file, "rb") as f:
            key = f.read()
    creds = grpc.ssl_channel_credentials(root_certificates=ca, private_key=key, certificate_chain=cert)
    channel = grpc.secure_channel(target, creds, options=[("grpc.ssl_target_name_override", "localhost")])
    call = channel.stream_stream(ADS, request_serializer=None, response_deserializer=None)
    answered = threading.Event()

    def requests():
        yield discovery_request(node)
        # Keep the request side open until the answer came (a half-close would end the stream).
        answered.wait(5)

    try:
        responses = call(requests(), timeout=5)
        first = next(responses)
        answered.set()
        print(json.dumps({"ok": True, "bytes": len(first)}))
    except grpc.RpcError as err:
        answered.set()
        print(json.dumps({"ok": False, "code": err.code().name, "details": err.details() or ""}))
    finally:
        channel.close()


if __name__ == "__main__":
    main()
