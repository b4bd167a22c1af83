"""The sync client against a real sessiond: every RPC, every error."""

from __future__ import annotations

import os
import socket
import threading
import time
from datetime import timedelta

import pytest
from conftest import MAX_VALUE_BYTES, Tls, Tokens

import sessiond
from sessiond import Client, aio
from sessiond._calls import RPCS
from sessiond.v1 import sessiond_pb2 as pb

RPC_METHODS = {
    "Create": "create",
    "Get": "get",
    "Set": "set",
    "Flush": "flush",
    "Rotate": "rotate",
    "Touch": "touch",
    "BindUser": "bind_user",
    "ListUserSessions": "list_user_sessions",
    "RevokeSession": "revoke_session",
    "RevokeUserSessions": "revoke_user_sessions",
    "CountSessions": "count_sessions",
    "ClearSessions": "clear_sessions",
    "Pipeline": "pipeline",
    "Watch": "watch",
}


def test_every_rpc_of_the_proto_has_a_method_on_both_clients() -> None:
    assert set(RPCS) == set(RPC_METHODS), "a new RPC needs a method on Client and aio.Client"
    for method in RPC_METHODS.values():
        assert callable(getattr(Client, method))
        assert callable(getattr(aio.Client, method))


def test_a_pipeline_answers_each_request_under_its_tag_and_goes_on_after_a_failure(
    client: Client,
) -> None:
    info = client.create({"a": 1})
    requests = [
        pb.PipelineRequest(tag=1, get=pb.GetRequest(id=info.id)),
        pb.PipelineRequest(tag=2, get=pb.GetRequest(id="x" * 32)),
        pb.PipelineRequest(tag=3, set=pb.SetRequest(id=info.id, upsert={"b": "2"})),
        pb.PipelineRequest(tag=4, flush=pb.FlushRequest(id=info.id)),
    ]
    replies = {r.tag: r for r in client.pipeline(requests)}
    assert replies[1].get.data["a"] == "1"
    assert replies[2].error.code == 5  # NOT_FOUND
    assert replies[3].set.session.version == 2
    assert replies[4].flush.existed
    with pytest.raises(sessiond.SessionNotFound):
        client.get(info.id)


def test_a_watch_starts_with_resync_then_tells_a_change_by_position(client: Client) -> None:
    watched = client.create({"a": 1})
    events = client.watch([watched.id])
    first = next(events)
    assert first.WhichOneof("event") == "resync" and len(first.resync.epoch) == 16
    info = client.set(watched.id, {"b": 2})
    event = next(events)
    assert (event.index, event.changed.version) == (0, info.version)
    client.flush(watched.id)
    assert next(events).ended.reason == pb.WatchEnded.REASON_FLUSHED


def test_values_go_in_as_python_objects_and_come_back_equal(client: Client) -> None:
    data = {"username": "yuan", "is_login": True, "cart": {"items": [1, 2]}, "n": None}
    info = client.create(data, idle_timeout=3600)
    session = client.get(info.id)
    assert session.data == data
    assert session.raw["cart"] == '{"items":[1,2]}'
    assert session.version == info.version == 1
    assert session.idle_timeout == timedelta(hours=1)


def test_a_users_sessions_are_listed_by_handle_and_revoked(client: Client) -> None:
    phone = client.create({"a": 1}, user_id="py-user", user_agent="Phone", ip="192.0.2.1")
    laptop = client.create()
    client.bind_user(laptop.id, "py-user", user_agent="Laptop")
    listed = client.list_user_sessions("py-user", current_id=laptop.id)
    assert {s.user_agent for s in listed} == {"Phone", "Laptop"}
    assert [s.user_agent for s in listed if s.current] == ["Laptop"]
    assert all(len(s.handle) == 32 and s.handle not in (phone.id, laptop.id) for s in listed)
    with pytest.raises(sessiond.SessionNotFound):
        client.get(listed[0].handle)
    handle = next(s.handle for s in listed if s.user_agent == "Phone")
    assert client.revoke_session(handle, user_id="someone-else") is False
    assert client.revoke_session(handle, user_id="py-user") is True
    other = client.create(user_id="py-user")
    assert client.revoke_user_sessions("py-user", except_id=laptop.id) == 1
    with pytest.raises(sessiond.SessionNotFound):
        client.get(other.id)
    client.bind_user(laptop.id, None)
    assert client.list_user_sessions("py-user") == []
    with pytest.raises(sessiond.InvalidArgument):
        client.list_user_sessions("")


def test_get_reads_only_the_keys_asked_for(client: Client) -> None:
    info = client.create({"a": 1, "b": 2, "c": 3})
    assert client.get(info.id, keys=["a", "c", "missing"]).data == {"a": 1, "c": 3}


def test_get_with_no_touch_leaves_the_deadline_where_it_was(client: Client) -> None:
    info = client.create({"a": 1}, idle_timeout=3600)
    assert client.get(info.id, no_touch=True).expires_at == info.expires_at


def test_set_upserts_and_removes_in_one_step(client: Client) -> None:
    info = client.create({"a": 1, "b": 2})
    after = client.set(info.id, {"c": [3]}, remove=["a"])
    assert after.version == info.version + 1
    assert client.get(info.id).data == {"b": 2, "c": [3]}


def test_a_stale_expected_version_is_a_version_conflict(client: Client) -> None:
    info = client.create({"a": 1})
    client.set(info.id, {"a": 2}, expected_version=info.version)
    with pytest.raises(sessiond.VersionConflict, match="ABORTED"):
        client.set(info.id, {"a": 3}, expected_version=info.version)
    assert client.get(info.id).data == {"a": 2}


def test_rotate_keeps_the_data_and_kills_the_old_id(client: Client) -> None:
    info = client.create({"a": 1})
    rotated = client.rotate(info.id)
    assert rotated.id != info.id
    assert client.get(rotated.id).data == {"a": 1}
    with pytest.raises(sessiond.SessionNotFound):
        client.get(info.id)


def test_touch_changes_the_idle_timeout(client: Client) -> None:
    info = client.create({}, idle_timeout=60)
    assert client.touch(info.id, idle_timeout=timedelta(minutes=30)).idle_timeout == timedelta(
        minutes=30
    )
    assert client.touch(info.id).idle_timeout == timedelta(minutes=30)


def test_flush_is_idempotent_and_says_whether_a_session_existed(client: Client) -> None:
    info = client.create({"a": 1})
    assert client.flush(info.id) is True
    assert client.flush(info.id) is False
    with pytest.raises(sessiond.SessionNotFound):
        client.get(info.id)


def test_an_unknown_id_is_not_found_and_a_malformed_one_invalid(client: Client) -> None:
    with pytest.raises(sessiond.SessionNotFound, match="NOT_FOUND"):
        client.get("0" * 32)
    with pytest.raises(sessiond.InvalidArgument):
        client.get("not an id")


def test_a_value_without_json_form_is_a_type_error_naming_the_key_before_anything_is_sent(
    client: Client,
) -> None:
    info = client.create({"a": 1})
    for bad in ({1, 2}, float("nan"), object()):
        with pytest.raises(TypeError, match="'bad'"):
            client.set(info.id, {"fine": 1, "bad": bad})
    with pytest.raises(TypeError, match="strings"):
        client.set(info.id, {3: "x"})  # type: ignore[dict-item]
    assert client.get(info.id).version == info.version


def test_an_oversized_value_is_resource_exhausted_quoting_the_limit(client: Client) -> None:
    info = client.create({})
    with pytest.raises(sessiond.ResourceExhausted, match=f"{MAX_VALUE_BYTES}.*max-value-bytes"):
        client.set(info.id, {"big": "x" * MAX_VALUE_BYTES})


def test_an_idle_timeout_out_of_bounds_is_invalid(client: Client) -> None:
    with pytest.raises(sessiond.InvalidArgument):
        client.create({}, idle_timeout=timedelta(days=10000))


@pytest.mark.parametrize("target", ["", "localhost", "127.0.0.1:", "127.0.0.1:99999", "a b:1"])
def test_a_malformed_target_is_refused_when_the_client_is_made(target: str) -> None:
    with pytest.raises(ValueError, match="target"):
        Client(target)


def test_a_timeout_must_be_positive() -> None:
    with pytest.raises(ValueError, match="timeout"):
        Client("127.0.0.1:1", timeout=0)


def test_nothing_listening_is_unavailable_at_once() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with (
        Client(f"127.0.0.1:{port}", timeout=5) as client,
        pytest.raises(sessiond.SessiondUnavailable),
    ):
        client.get("0" * 32)


def test_a_server_that_never_answers_is_a_deadline_exceeded_within_the_timeout() -> None:
    # Accepts connections and says nothing: a hung or black-holed server.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        target = f"127.0.0.1:{silent.getsockname()[1]}"
        started = time.monotonic()
        with Client(target, timeout=0.5) as client, pytest.raises(sessiond.DeadlineExceeded):
            client.get("0" * 32)
        # Bounded by the deadline, not hung (a generous margin for a busy machine).
        assert time.monotonic() - started < 10


def test_a_forked_child_opens_its_own_channel_and_works(client: Client) -> None:
    # Twenty children, because what broke this (the child's new channel
    # picking up the parent's connection from grpc's global subchannel pool)
    # failed about one fork in five.
    for child in range(20):
        info = client.create({"who": "parent"})
        client.get(info.id)
        parent_channel = client._channel
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child reports through its exit code
            code = 1
            try:
                client.set(info.id, {"who": f"child {child}"})
                code = 0 if client._channel is not parent_channel else 2
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0, f"child {child}"
        assert client._channel is parent_channel
        assert client.get(info.id).data == {"who": f"child {child}"}


def test_threads_setting_different_keys_of_one_session_lose_nothing(client: Client) -> None:
    info = client.create({})

    def write(n: int) -> None:
        for round_ in range(10):
            client.set(info.id, {f"k{n}": round_})

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert client.get(info.id).data == {f"k{n}": 9 for n in range(8)}


def test_a_token_opens_its_namespace_and_another_namespace_sees_nothing(tokens: Tokens) -> None:
    with (
        Client(tokens.server.grpc_addr, token=tokens.app) as app,
        Client(tokens.server.grpc_addr, token=tokens.other) as other,
    ):
        info = app.create({"a": 1})
        assert app.get(info.id).data == {"a": 1}
        with pytest.raises(sessiond.SessionNotFound):
            other.get(info.id)


def test_a_wrong_token_says_so_at_the_first_call(tokens: Tokens) -> None:
    with (
        Client(tokens.server.grpc_addr, token="wrong-token") as client,
        pytest.raises(sessiond.Unauthenticated, match="token"),
    ):
        client.create({})
    with Client(tokens.server.grpc_addr) as client, pytest.raises(sessiond.Unauthenticated):
        client.create({})


def test_a_read_only_token_may_read_but_not_write(tokens: Tokens) -> None:
    with (
        Client(tokens.server.grpc_addr, token=tokens.app) as app,
        Client(tokens.server.grpc_addr, token=tokens.app_ro) as reader,
    ):
        info = app.create({"a": 1})
        assert reader.get(info.id).data == {"a": 1}
        with pytest.raises(sessiond.PermissionDenied, match="read-only"):
            reader.set(info.id, {"a": 2})


def test_mtls_with_a_client_certificate_reaches_its_namespace(tls: Tls) -> None:
    with Client(
        tls.server.grpc_addr,
        tls_ca=tls.ca,
        tls_cert=tls.cert,
        tls_key=tls.key,
        tls_server_name="localhost",
    ) as client:
        info = client.create({"a": 1})
        assert client.get(info.id).data == {"a": 1}


def test_tls_without_the_client_certificate_is_refused(tls: Tls) -> None:
    with (
        Client(
            tls.server.grpc_addr, tls_ca=tls.ca.read_bytes(), tls_server_name="localhost", timeout=5
        ) as client,
        pytest.raises(sessiond.SessiondError),
    ):
        client.create({})


def test_plaintext_against_a_tls_server_fails_rather_than_hangs(tls: Tls) -> None:
    with Client(tls.server.grpc_addr, timeout=5) as client, pytest.raises(sessiond.Unavailable):
        client.get("0" * 32)


def test_client_certificate_without_its_key_is_refused(tls: Tls) -> None:
    with pytest.raises(ValueError, match="tls_key"):
        Client(tls.server.grpc_addr, tls_ca=tls.ca, tls_cert=tls.cert)


def test_a_missing_ca_file_is_refused_naming_the_option(tmp_path: os.PathLike[str]) -> None:
    with pytest.raises(ValueError, match="tls_ca"):
        Client("127.0.0.1:1", tls_ca=os.path.join(tmp_path, "absent.pem"))


def test_count_and_clear_act_on_the_callers_namespace_only(tokens: Tokens) -> None:
    with (
        Client(tokens.server.grpc_addr, token=tokens.app) as app,
        Client(tokens.server.grpc_addr, token=tokens.app_ro) as app_ro,
        Client(tokens.server.grpc_addr, token=tokens.other) as other,
    ):
        kept = app.create({"a": 1})
        before = other.count_sessions()
        other.create()
        other.create()
        assert other.count_sessions() == before + 2
        assert app_ro.count_sessions() == app.count_sessions() >= 1
        with pytest.raises(sessiond.PermissionDenied):
            app_ro.clear_sessions()
        assert other.clear_sessions() == before + 2
        assert other.count_sessions() == 0
        assert app.get(kept.id).data == {"a": 1}
