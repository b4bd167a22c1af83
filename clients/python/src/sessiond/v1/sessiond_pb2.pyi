import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SessionInfo(_message.Message):
    __slots__ = ("id", "version", "created_at", "expires_at", "idle_timeout")
    ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    IDLE_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    id: str
    version: int
    created_at: _timestamp_pb2.Timestamp
    expires_at: _timestamp_pb2.Timestamp
    idle_timeout: _duration_pb2.Duration
    def __init__(self, id: _Optional[str] = ..., version: _Optional[int] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., idle_timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class CreateRequest(_message.Message):
    __slots__ = ("data", "idle_timeout", "user")
    class DataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    DATA_FIELD_NUMBER: _ClassVar[int]
    IDLE_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    data: _containers.ScalarMap[str, str]
    idle_timeout: _duration_pb2.Duration
    user: UserBinding
    def __init__(self, data: _Optional[_Mapping[str, str]] = ..., idle_timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., user: _Optional[_Union[UserBinding, _Mapping]] = ...) -> None: ...

class UserBinding(_message.Message):
    __slots__ = ("user_id", "user_agent", "ip")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    USER_AGENT_FIELD_NUMBER: _ClassVar[int]
    IP_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    user_agent: str
    ip: str
    def __init__(self, user_id: _Optional[str] = ..., user_agent: _Optional[str] = ..., ip: _Optional[str] = ...) -> None: ...

class CreateResponse(_message.Message):
    __slots__ = ("session",)
    SESSION_FIELD_NUMBER: _ClassVar[int]
    session: SessionInfo
    def __init__(self, session: _Optional[_Union[SessionInfo, _Mapping]] = ...) -> None: ...

class GetRequest(_message.Message):
    __slots__ = ("id", "keys", "no_touch")
    ID_FIELD_NUMBER: _ClassVar[int]
    KEYS_FIELD_NUMBER: _ClassVar[int]
    NO_TOUCH_FIELD_NUMBER: _ClassVar[int]
    id: str
    keys: _containers.RepeatedScalarFieldContainer[str]
    no_touch: bool
    def __init__(self, id: _Optional[str] = ..., keys: _Optional[_Iterable[str]] = ..., no_touch: _Optional[bool] = ...) -> None: ...

class GetResponse(_message.Message):
    __slots__ = ("session", "data")
    class DataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    SESSION_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    session: SessionInfo
    data: _containers.ScalarMap[str, str]
    def __init__(self, session: _Optional[_Union[SessionInfo, _Mapping]] = ..., data: _Optional[_Mapping[str, str]] = ...) -> None: ...

class SetRequest(_message.Message):
    __slots__ = ("id", "upsert", "remove", "expected_version", "create_if_missing", "replace_all", "idle_timeout")
    class UpsertEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    UPSERT_FIELD_NUMBER: _ClassVar[int]
    REMOVE_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_VERSION_FIELD_NUMBER: _ClassVar[int]
    CREATE_IF_MISSING_FIELD_NUMBER: _ClassVar[int]
    REPLACE_ALL_FIELD_NUMBER: _ClassVar[int]
    IDLE_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    id: str
    upsert: _containers.ScalarMap[str, str]
    remove: _containers.RepeatedScalarFieldContainer[str]
    expected_version: int
    create_if_missing: bool
    replace_all: bool
    idle_timeout: _duration_pb2.Duration
    def __init__(self, id: _Optional[str] = ..., upsert: _Optional[_Mapping[str, str]] = ..., remove: _Optional[_Iterable[str]] = ..., expected_version: _Optional[int] = ..., create_if_missing: _Optional[bool] = ..., replace_all: _Optional[bool] = ..., idle_timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class SetResponse(_message.Message):
    __slots__ = ("session",)
    SESSION_FIELD_NUMBER: _ClassVar[int]
    session: SessionInfo
    def __init__(self, session: _Optional[_Union[SessionInfo, _Mapping]] = ...) -> None: ...

class FlushRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class FlushResponse(_message.Message):
    __slots__ = ("existed",)
    EXISTED_FIELD_NUMBER: _ClassVar[int]
    existed: bool
    def __init__(self, existed: _Optional[bool] = ...) -> None: ...

class RotateRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class RotateResponse(_message.Message):
    __slots__ = ("session",)
    SESSION_FIELD_NUMBER: _ClassVar[int]
    session: SessionInfo
    def __init__(self, session: _Optional[_Union[SessionInfo, _Mapping]] = ...) -> None: ...

class TouchRequest(_message.Message):
    __slots__ = ("id", "idle_timeout")
    ID_FIELD_NUMBER: _ClassVar[int]
    IDLE_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    id: str
    idle_timeout: _duration_pb2.Duration
    def __init__(self, id: _Optional[str] = ..., idle_timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class TouchResponse(_message.Message):
    __slots__ = ("session",)
    SESSION_FIELD_NUMBER: _ClassVar[int]
    session: SessionInfo
    def __init__(self, session: _Optional[_Union[SessionInfo, _Mapping]] = ...) -> None: ...

class BindUserRequest(_message.Message):
    __slots__ = ("id", "user")
    ID_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    id: str
    user: UserBinding
    def __init__(self, id: _Optional[str] = ..., user: _Optional[_Union[UserBinding, _Mapping]] = ...) -> None: ...

class BindUserResponse(_message.Message):
    __slots__ = ("session",)
    SESSION_FIELD_NUMBER: _ClassVar[int]
    session: SessionInfo
    def __init__(self, session: _Optional[_Union[SessionInfo, _Mapping]] = ...) -> None: ...

class ListUserSessionsRequest(_message.Message):
    __slots__ = ("user_id", "current_id")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    CURRENT_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    current_id: str
    def __init__(self, user_id: _Optional[str] = ..., current_id: _Optional[str] = ...) -> None: ...

class UserSessionInfo(_message.Message):
    __slots__ = ("handle", "created_at", "last_seen", "expires_at", "user_agent", "ip", "current")
    HANDLE_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_SEEN_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    USER_AGENT_FIELD_NUMBER: _ClassVar[int]
    IP_FIELD_NUMBER: _ClassVar[int]
    CURRENT_FIELD_NUMBER: _ClassVar[int]
    handle: str
    created_at: _timestamp_pb2.Timestamp
    last_seen: _timestamp_pb2.Timestamp
    expires_at: _timestamp_pb2.Timestamp
    user_agent: str
    ip: str
    current: bool
    def __init__(self, handle: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_seen: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., user_agent: _Optional[str] = ..., ip: _Optional[str] = ..., current: _Optional[bool] = ...) -> None: ...

class ListUserSessionsResponse(_message.Message):
    __slots__ = ("sessions",)
    SESSIONS_FIELD_NUMBER: _ClassVar[int]
    sessions: _containers.RepeatedCompositeFieldContainer[UserSessionInfo]
    def __init__(self, sessions: _Optional[_Iterable[_Union[UserSessionInfo, _Mapping]]] = ...) -> None: ...

class RevokeSessionRequest(_message.Message):
    __slots__ = ("handle", "user_id")
    HANDLE_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    handle: str
    user_id: str
    def __init__(self, handle: _Optional[str] = ..., user_id: _Optional[str] = ...) -> None: ...

class RevokeSessionResponse(_message.Message):
    __slots__ = ("existed",)
    EXISTED_FIELD_NUMBER: _ClassVar[int]
    existed: bool
    def __init__(self, existed: _Optional[bool] = ...) -> None: ...

class RevokeUserSessionsRequest(_message.Message):
    __slots__ = ("user_id", "except_id")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    EXCEPT_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    except_id: str
    def __init__(self, user_id: _Optional[str] = ..., except_id: _Optional[str] = ...) -> None: ...

class RevokeUserSessionsResponse(_message.Message):
    __slots__ = ("revoked",)
    REVOKED_FIELD_NUMBER: _ClassVar[int]
    revoked: int
    def __init__(self, revoked: _Optional[int] = ...) -> None: ...

class CountSessionsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class CountSessionsResponse(_message.Message):
    __slots__ = ("count",)
    COUNT_FIELD_NUMBER: _ClassVar[int]
    count: int
    def __init__(self, count: _Optional[int] = ...) -> None: ...

class ClearSessionsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ClearSessionsResponse(_message.Message):
    __slots__ = ("cleared",)
    CLEARED_FIELD_NUMBER: _ClassVar[int]
    cleared: int
    def __init__(self, cleared: _Optional[int] = ...) -> None: ...

class PipelineRequest(_message.Message):
    __slots__ = ("tag", "get", "set", "touch", "flush")
    TAG_FIELD_NUMBER: _ClassVar[int]
    GET_FIELD_NUMBER: _ClassVar[int]
    SET_FIELD_NUMBER: _ClassVar[int]
    TOUCH_FIELD_NUMBER: _ClassVar[int]
    FLUSH_FIELD_NUMBER: _ClassVar[int]
    tag: int
    get: GetRequest
    set: SetRequest
    touch: TouchRequest
    flush: FlushRequest
    def __init__(self, tag: _Optional[int] = ..., get: _Optional[_Union[GetRequest, _Mapping]] = ..., set: _Optional[_Union[SetRequest, _Mapping]] = ..., touch: _Optional[_Union[TouchRequest, _Mapping]] = ..., flush: _Optional[_Union[FlushRequest, _Mapping]] = ...) -> None: ...

class PipelineResponse(_message.Message):
    __slots__ = ("tag", "get", "set", "touch", "flush", "error")
    TAG_FIELD_NUMBER: _ClassVar[int]
    GET_FIELD_NUMBER: _ClassVar[int]
    SET_FIELD_NUMBER: _ClassVar[int]
    TOUCH_FIELD_NUMBER: _ClassVar[int]
    FLUSH_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    tag: int
    get: GetResponse
    set: SetResponse
    touch: TouchResponse
    flush: FlushResponse
    error: PipelineError
    def __init__(self, tag: _Optional[int] = ..., get: _Optional[_Union[GetResponse, _Mapping]] = ..., set: _Optional[_Union[SetResponse, _Mapping]] = ..., touch: _Optional[_Union[TouchResponse, _Mapping]] = ..., flush: _Optional[_Union[FlushResponse, _Mapping]] = ..., error: _Optional[_Union[PipelineError, _Mapping]] = ...) -> None: ...

class PipelineError(_message.Message):
    __slots__ = ("code", "message")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    code: int
    message: str
    def __init__(self, code: _Optional[int] = ..., message: _Optional[str] = ...) -> None: ...

class WatchRequest(_message.Message):
    __slots__ = ("ids", "namespace")
    IDS_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedScalarFieldContainer[str]
    namespace: bool
    def __init__(self, ids: _Optional[_Iterable[str]] = ..., namespace: _Optional[bool] = ...) -> None: ...

class WatchEvent(_message.Message):
    __slots__ = ("index", "handle", "resync", "changed", "ended")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    HANDLE_FIELD_NUMBER: _ClassVar[int]
    RESYNC_FIELD_NUMBER: _ClassVar[int]
    CHANGED_FIELD_NUMBER: _ClassVar[int]
    ENDED_FIELD_NUMBER: _ClassVar[int]
    index: int
    handle: str
    resync: WatchResync
    changed: WatchChanged
    ended: WatchEnded
    def __init__(self, index: _Optional[int] = ..., handle: _Optional[str] = ..., resync: _Optional[_Union[WatchResync, _Mapping]] = ..., changed: _Optional[_Union[WatchChanged, _Mapping]] = ..., ended: _Optional[_Union[WatchEnded, _Mapping]] = ...) -> None: ...

class WatchResync(_message.Message):
    __slots__ = ("epoch", "namespace")
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    epoch: str
    namespace: str
    def __init__(self, epoch: _Optional[str] = ..., namespace: _Optional[str] = ...) -> None: ...

class WatchChanged(_message.Message):
    __slots__ = ("version",)
    VERSION_FIELD_NUMBER: _ClassVar[int]
    version: int
    def __init__(self, version: _Optional[int] = ...) -> None: ...

class WatchEnded(_message.Message):
    __slots__ = ("reason",)
    class Reason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        REASON_UNSPECIFIED: _ClassVar[WatchEnded.Reason]
        REASON_FLUSHED: _ClassVar[WatchEnded.Reason]
        REASON_EXPIRED: _ClassVar[WatchEnded.Reason]
        REASON_ROTATED: _ClassVar[WatchEnded.Reason]
        REASON_REVOKED: _ClassVar[WatchEnded.Reason]
    REASON_UNSPECIFIED: WatchEnded.Reason
    REASON_FLUSHED: WatchEnded.Reason
    REASON_EXPIRED: WatchEnded.Reason
    REASON_ROTATED: WatchEnded.Reason
    REASON_REVOKED: WatchEnded.Reason
    REASON_FIELD_NUMBER: _ClassVar[int]
    reason: WatchEnded.Reason
    def __init__(self, reason: _Optional[_Union[WatchEnded.Reason, str]] = ...) -> None: ...
