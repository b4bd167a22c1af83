"""grpcio-reflection's own client, which speaks grpc.reflection.v1alpha
(as Postman, Evans and older grpcurl do), against a real sessiond."""

from __future__ import annotations

import grpc
from google.protobuf.descriptor_pool import DescriptorPool
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)


def test_a_v1alpha_client_lists_the_session_and_health_services(start):
    server = start()
    with grpc.insecure_channel(server.grpc) as channel:
        services = set(ProtoReflectionDescriptorDatabase(channel).get_services())
    assert {"sessiond.v1.SessionService", "grpc.health.v1.Health"} <= services, services


def test_a_v1alpha_client_resolves_the_session_service_methods(start):
    server = start()
    with grpc.insecure_channel(server.grpc) as channel:
        pool = DescriptorPool(ProtoReflectionDescriptorDatabase(channel))
        service = pool.FindServiceByName("sessiond.v1.SessionService")
        methods = {method.name for method in service.methods}
        get = service.methods_by_name["Get"]
        fields = {field.name for field in get.input_type.fields}
    assert {"Create", "Get", "Set", "Flush", "Rotate", "Touch"} <= methods, methods
    assert {"id", "keys", "no_touch"} <= fields, fields


def test_reflection_off_turns_v1alpha_off_too(start):
    server = start("--grpc-reflection", "false")
    with grpc.insecure_channel(server.grpc) as channel:
        try:
            ProtoReflectionDescriptorDatabase(channel).get_services()
        except grpc.RpcError as err:
            assert err.code() == grpc.StatusCode.UNIMPLEMENTED, err
        else:
            raise AssertionError("reflection answered with --grpc-reflection false")
