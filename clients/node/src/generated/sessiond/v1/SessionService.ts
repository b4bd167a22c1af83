// Original file: proto/sessiond/v1/sessiond.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { BindUserRequest as _sessiond_v1_BindUserRequest, BindUserRequest__Output as _sessiond_v1_BindUserRequest__Output } from '../../sessiond/v1/BindUserRequest';
import type { BindUserResponse as _sessiond_v1_BindUserResponse, BindUserResponse__Output as _sessiond_v1_BindUserResponse__Output } from '../../sessiond/v1/BindUserResponse';
import type { ClearSessionsRequest as _sessiond_v1_ClearSessionsRequest, ClearSessionsRequest__Output as _sessiond_v1_ClearSessionsRequest__Output } from '../../sessiond/v1/ClearSessionsRequest';
import type { ClearSessionsResponse as _sessiond_v1_ClearSessionsResponse, ClearSessionsResponse__Output as _sessiond_v1_ClearSessionsResponse__Output } from '../../sessiond/v1/ClearSessionsResponse';
import type { CountSessionsRequest as _sessiond_v1_CountSessionsRequest, CountSessionsRequest__Output as _sessiond_v1_CountSessionsRequest__Output } from '../../sessiond/v1/CountSessionsRequest';
import type { CountSessionsResponse as _sessiond_v1_CountSessionsResponse, CountSessionsResponse__Output as _sessiond_v1_CountSessionsResponse__Output } from '../../sessiond/v1/CountSessionsResponse';
import type { CreateRequest as _sessiond_v1_CreateRequest, CreateRequest__Output as _sessiond_v1_CreateRequest__Output } from '../../sessiond/v1/CreateRequest';
import type { CreateResponse as _sessiond_v1_CreateResponse, CreateResponse__Output as _sessiond_v1_CreateResponse__Output } from '../../sessiond/v1/CreateResponse';
import type { FlushRequest as _sessiond_v1_FlushRequest, FlushRequest__Output as _sessiond_v1_FlushRequest__Output } from '../../sessiond/v1/FlushRequest';
import type { FlushResponse as _sessiond_v1_FlushResponse, FlushResponse__Output as _sessiond_v1_FlushResponse__Output } from '../../sessiond/v1/FlushResponse';
import type { GetRequest as _sessiond_v1_GetRequest, GetRequest__Output as _sessiond_v1_GetRequest__Output } from '../../sessiond/v1/GetRequest';
import type { GetResponse as _sessiond_v1_GetResponse, GetResponse__Output as _sessiond_v1_GetResponse__Output } from '../../sessiond/v1/GetResponse';
import type { ListUserSessionsRequest as _sessiond_v1_ListUserSessionsRequest, ListUserSessionsRequest__Output as _sessiond_v1_ListUserSessionsRequest__Output } from '../../sessiond/v1/ListUserSessionsRequest';
import type { ListUserSessionsResponse as _sessiond_v1_ListUserSessionsResponse, ListUserSessionsResponse__Output as _sessiond_v1_ListUserSessionsResponse__Output } from '../../sessiond/v1/ListUserSessionsResponse';
import type { PipelineRequest as _sessiond_v1_PipelineRequest, PipelineRequest__Output as _sessiond_v1_PipelineRequest__Output } from '../../sessiond/v1/PipelineRequest';
import type { PipelineResponse as _sessiond_v1_PipelineResponse, PipelineResponse__Output as _sessiond_v1_PipelineResponse__Output } from '../../sessiond/v1/PipelineResponse';
import type { RevokeSessionRequest as _sessiond_v1_RevokeSessionRequest, RevokeSessionRequest__Output as _sessiond_v1_RevokeSessionRequest__Output } from '../../sessiond/v1/RevokeSessionRequest';
import type { RevokeSessionResponse as _sessiond_v1_RevokeSessionResponse, RevokeSessionResponse__Output as _sessiond_v1_RevokeSessionResponse__Output } from '../../sessiond/v1/RevokeSessionResponse';
import type { RevokeUserSessionsRequest as _sessiond_v1_RevokeUserSessionsRequest, RevokeUserSessionsRequest__Output as _sessiond_v1_RevokeUserSessionsRequest__Output } from '../../sessiond/v1/RevokeUserSessionsRequest';
import type { RevokeUserSessionsResponse as _sessiond_v1_RevokeUserSessionsResponse, RevokeUserSessionsResponse__Output as _sessiond_v1_RevokeUserSessionsResponse__Output } from '../../sessiond/v1/RevokeUserSessionsResponse';
import type { RotateRequest as _sessiond_v1_RotateRequest, RotateRequest__Output as _sessiond_v1_RotateRequest__Output } from '../../sessiond/v1/RotateRequest';
import type { RotateResponse as _sessiond_v1_RotateResponse, RotateResponse__Output as _sessiond_v1_RotateResponse__Output } from '../../sessiond/v1/RotateResponse';
import type { SetRequest as _sessiond_v1_SetRequest, SetRequest__Output as _sessiond_v1_SetRequest__Output } from '../../sessiond/v1/SetRequest';
import type { SetResponse as _sessiond_v1_SetResponse, SetResponse__Output as _sessiond_v1_SetResponse__Output } from '../../sessiond/v1/SetResponse';
import type { TouchRequest as _sessiond_v1_TouchRequest, TouchRequest__Output as _sessiond_v1_TouchRequest__Output } from '../../sessiond/v1/TouchRequest';
import type { TouchResponse as _sessiond_v1_TouchResponse, TouchResponse__Output as _sessiond_v1_TouchResponse__Output } from '../../sessiond/v1/TouchResponse';
import type { WatchEvent as _sessiond_v1_WatchEvent, WatchEvent__Output as _sessiond_v1_WatchEvent__Output } from '../../sessiond/v1/WatchEvent';
import type { WatchRequest as _sessiond_v1_WatchRequest, WatchRequest__Output as _sessiond_v1_WatchRequest__Output } from '../../sessiond/v1/WatchRequest';

export interface SessionServiceClient extends grpc.Client {
  BindUser(argument: _sessiond_v1_BindUserRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sessiond_v1_BindUserResponse__Output>): grpc.ClientUnaryCall;
  BindUser(argument: _sessiond_v1_BindUserRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sessiond_v1_BindUserResponse__Output>): grpc.ClientUnaryCall;
  BindUser(argument: _sessiond_v1_BindUserRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sessiond_v1_BindUserResponse__Output>): grpc.ClientUnaryCall;
  BindUser(argument: _sessiond_v1_BindUserRequest, callback: grpc.requestCallback<_sessiond_v1_BindUserResponse__Output>): grpc.ClientUnaryCall;
  bindUser(argument: _sessiond_v1_BindUserRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sessiond_v1_BindUserResponse__Output>): grpc.ClientUnaryCall;
  bindUser(argument: _sessiond_v1_BindUserRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sessiond_v1_BindUserResponse__Output>): grpc.ClientUnaryCall;
  bindUser(argument: _sessiond_v1_BindUserRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sessiond_v1_BindUserResponse__Output>): grpc.ClientUnaryCall;
  bindUser(argument: _sessiond_v1_BindUserRequest, callback: grpc.requestCallback<_sessiond_v1_BindUserResponse__Output>): grpc.ClientUnaryCall;
  
  ClearSessions(argument: _sessiond_v1_ClearSessionsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sessiond_v1_ClearSessionsResponse__Output>): grpc.ClientUnaryCall;
  ClearSessions(argument: _sessiond_v1_ClearSessionsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sessiond_v1_ClearSessionsResponse__Output>): grpc.ClientUnaryCall;
  ClearSessions(argument: _sessiond_v1_ClearSessionsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sessiond_v1_ClearSessionsResponse__Output>): grpc.ClientUnaryCall;
  ClearSessions(argument: _sessiond_v1_ClearSessionsRequest, callback: grpc.requestCallback<_sessiond_v1_ClearSessionsResponse__Output>): grpc.ClientUnaryCall;
  clearSessions(argument: _sessiond_v1_ClearSessionsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sessiond_v1_ClearSessionsResponse__Output>): grpc.ClientUnaryCall;
  clearSessions(argument: _sessiond_v1_ClearSessionsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sessiond_v1_ClearSessionsResponse__Output>): grpc.ClientUnaryCall;
  clearSessions(argument: _sessiond_v1_ClearSessionsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sessiond_v1_ClearSessionsResponse__Output>): grpc.ClientUnaryCall;
  clearSessions(argument: _sessiond_v1_ClearSessionsRequest, callback: grpc.requestCallback<_sessiond_v1_ClearSessionsResponse__Output>): grpc.ClientUnaryCall;
  
  CountSessions(argument: _sessiond_v1_CountSessionsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sessiond_v1_CountSessionsResponse__Output>): grpc.ClientUnaryCall;
  CountSessions(argument: _sessiond_v1_CountSessionsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sessiond_v1_CountSessionsResponse__Output>): grpc.ClientUnaryCall;
  CountSessions(argument: _sessiond_v1_CountSessionsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sessiond_v1_CountSessionsResponse__Output>): grpc.ClientUnaryCall;
  CountSessions(argument: _sessiond_v1_CountSessionsRequest, callback: grpc.requestCallback<_sessiond_v1_CountSessionsResponse__Output>): grpc.ClientUnaryCall;
  countSessions(argument: _sessiond_v1_CountSessionsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sessiond_v1_CountSessionsResponse__Output>): grpc.ClientUnaryCall;
  countSessions(argument: _sessiond_v1_CountSessionsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sessiond_v1_CountSessionsResponse__Output>): grpc.ClientUnaryCall;
  countSessions(argument: _sessiond_v1_CountSessionsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sessiond_v1_CountSessionsResponse__Output>): grpc.ClientUnaryCall;
  countSessions(argument: _sessiond_v1_CountSessionsRequest, callback: grpc.requestCallback<_sessiond_v1_CountSessionsResponse__Output>): grpc.ClientUnaryCall;
  
  Create(argument: _sessiond_v1_CreateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sessiond_v1_CreateResponse__Output>): grpc.ClientUnaryCall;
  Create(argument: _sessiond_v1_CreateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sessiond_v1_CreateResponse__Output>): grpc.ClientUnaryCall;
  Create(argument: _sessiond_v1_CreateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sessiond_v1_CreateResponse__Output>): grpc.ClientUnaryCall;
  Create(argument: _sessiond_v1_CreateRequest, callback: grpc.requestCallback<_sessiond_v1_CreateResponse__Output>): grpc.ClientUnaryCall;
  create(argument: _sessiond_v1_CreateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sessiond_v1_CreateResponse__Output>): grpc.ClientUnaryCall;
  create(argument: _sessiond_v1_CreateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sessiond_v1_CreateResponse__Output>): grpc.ClientUnaryCall;
  create(argument: _sessiond_v1_CreateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sessiond_v1_CreateResponse__Output>): grpc.ClientUnaryCall;
  create(argument: _sessiond_v1_CreateRequest, callback: grpc.requestCallback<_sessiond_v1_CreateResponse__Output>): grpc.ClientUnaryCall;
  
  Flush(argument: _sessiond_v1_FlushRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sessiond_v1_FlushResponse__Output>): grpc.ClientUnaryCall;
  Flush(argument: _sessiond_v1_FlushRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sessiond_v1_FlushResponse__Output>): grpc.ClientUnaryCall;
  Flush(argument: _sessiond_v1_FlushRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sessiond_v1_FlushResponse__Output>): grpc.ClientUnaryCall;
  Flush(argument: _sessiond_v1_FlushRequest, callback: grpc.requestCallback<_sessiond_v1_FlushResponse__Output>): grpc.ClientUnaryCall;
  flush(argument: _sessiond_v1_FlushRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sessiond_v1_FlushResponse__Output>): grpc.ClientUnaryCall;
  flush(argument: _sessiond_v1_FlushRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sessiond_v1_FlushResponse__Output>): grpc.ClientUnaryCall;
  flush(argument: _sessiond_v1_FlushRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sessiond_v1_FlushResponse__Output>): grpc.ClientUnaryCall;
  flush(argument: _sessiond_v1_FlushRequest, callback: grpc.requestCallback<_sessiond_v1_FlushResponse__Output>): grpc.ClientUnaryCall;
  
  Get(argument: _sessiond_v1_GetRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sessiond_v1_GetResponse__Output>): grpc.ClientUnaryCall;
  Get(argument: _sessiond_v1_GetRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sessiond_v1_GetResponse__Output>): grpc.ClientUnaryCall;
  Get(argument: _sessiond_v1_GetRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sessiond_v1_GetResponse__Output>): grpc.ClientUnaryCall;
  Get(argument: _sessiond_v1_GetRequest, callback: grpc.requestCallback<_sessiond_v1_GetResponse__Output>): grpc.ClientUnaryCall;
  get(argument: _sessiond_v1_GetRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sessiond_v1_GetResponse__Output>): grpc.ClientUnaryCall;
  get(argument: _sessiond_v1_GetRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sessiond_v1_GetResponse__Output>): grpc.ClientUnaryCall;
  get(argument: _sessiond_v1_GetRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sessiond_v1_GetResponse__Output>): grpc.ClientUnaryCall;
  get(argument: _sessiond_v1_GetRequest, callback: grpc.requestCallback<_sessiond_v1_GetResponse__Output>): grpc.ClientUnaryCall;
  
  ListUserSessions(argument: _sessiond_v1_ListUserSessionsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sessiond_v1_ListUserSessionsResponse__Output>): grpc.ClientUnaryCall;
  ListUserSessions(argument: _sessiond_v1_ListUserSessionsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sessiond_v1_ListUserSessionsResponse__Output>): grpc.ClientUnaryCall;
  ListUserSessions(argument: _sessiond_v1_ListUserSessionsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sessiond_v1_ListUserSessionsResponse__Output>): grpc.ClientUnaryCall;
  ListUserSessions(argument: _sessiond_v1_ListUserSessionsRequest, callback: grpc.requestCallback<_sessiond_v1_ListUserSessionsResponse__Output>): grpc.ClientUnaryCall;
  listUserSessions(argument: _sessiond_v1_ListUserSessionsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sessiond_v1_ListUserSessionsResponse__Output>): grpc.ClientUnaryCall;
  listUserSessions(argument: _sessiond_v1_ListUserSessionsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sessiond_v1_ListUserSessionsResponse__Output>): grpc.ClientUnaryCall;
  listUserSessions(argument: _sessiond_v1_ListUserSessionsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sessiond_v1_ListUserSessionsResponse__Output>): grpc.ClientUnaryCall;
  listUserSessions(argument: _sessiond_v1_ListUserSessionsRequest, callback: grpc.requestCallback<_sessiond_v1_ListUserSessionsResponse__Output>): grpc.ClientUnaryCall;
  
  Pipeline(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_sessiond_v1_PipelineRequest, _sessiond_v1_PipelineResponse__Output>;
  Pipeline(options?: grpc.CallOptions): grpc.ClientDuplexStream<_sessiond_v1_PipelineRequest, _sessiond_v1_PipelineResponse__Output>;
  pipeline(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_sessiond_v1_PipelineRequest, _sessiond_v1_PipelineResponse__Output>;
  pipeline(options?: grpc.CallOptions): grpc.ClientDuplexStream<_sessiond_v1_PipelineRequest, _sessiond_v1_PipelineResponse__Output>;
  
  RevokeSession(argument: _sessiond_v1_RevokeSessionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sessiond_v1_RevokeSessionResponse__Output>): grpc.ClientUnaryCall;
  RevokeSession(argument: _sessiond_v1_RevokeSessionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sessiond_v1_RevokeSessionResponse__Output>): grpc.ClientUnaryCall;
  RevokeSession(argument: _sessiond_v1_RevokeSessionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sessiond_v1_RevokeSessionResponse__Output>): grpc.ClientUnaryCall;
  RevokeSession(argument: _sessiond_v1_RevokeSessionRequest, callback: grpc.requestCallback<_sessiond_v1_RevokeSessionResponse__Output>): grpc.ClientUnaryCall;
  revokeSession(argument: _sessiond_v1_RevokeSessionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sessiond_v1_RevokeSessionResponse__Output>): grpc.ClientUnaryCall;
  revokeSession(argument: _sessiond_v1_RevokeSessionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sessiond_v1_RevokeSessionResponse__Output>): grpc.ClientUnaryCall;
  revokeSession(argument: _sessiond_v1_RevokeSessionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sessiond_v1_RevokeSessionResponse__Output>): grpc.ClientUnaryCall;
  revokeSession(argument: _sessiond_v1_RevokeSessionRequest, callback: grpc.requestCallback<_sessiond_v1_RevokeSessionResponse__Output>): grpc.ClientUnaryCall;
  
  RevokeUserSessions(argument: _sessiond_v1_RevokeUserSessionsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sessiond_v1_RevokeUserSessionsResponse__Output>): grpc.ClientUnaryCall;
  RevokeUserSessions(argument: _sessiond_v1_RevokeUserSessionsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sessiond_v1_RevokeUserSessionsResponse__Output>): grpc.ClientUnaryCall;
  RevokeUserSessions(argument: _sessiond_v1_RevokeUserSessionsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sessiond_v1_RevokeUserSessionsResponse__Output>): grpc.ClientUnaryCall;
  RevokeUserSessions(argument: _sessiond_v1_RevokeUserSessionsRequest, callback: grpc.requestCallback<_sessiond_v1_RevokeUserSessionsResponse__Output>): grpc.ClientUnaryCall;
  revokeUserSessions(argument: _sessiond_v1_RevokeUserSessionsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sessiond_v1_RevokeUserSessionsResponse__Output>): grpc.ClientUnaryCall;
  revokeUserSessions(argument: _sessiond_v1_RevokeUserSessionsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sessiond_v1_RevokeUserSessionsResponse__Output>): grpc.ClientUnaryCall;
  revokeUserSessions(argument: _sessiond_v1_RevokeUserSessionsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sessiond_v1_RevokeUserSessionsResponse__Output>): grpc.ClientUnaryCall;
  revokeUserSessions(argument: _sessiond_v1_RevokeUserSessionsRequest, callback: grpc.requestCallback<_sessiond_v1_RevokeUserSessionsResponse__Output>): grpc.ClientUnaryCall;
  
  Rotate(argument: _sessiond_v1_RotateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sessiond_v1_RotateResponse__Output>): grpc.ClientUnaryCall;
  Rotate(argument: _sessiond_v1_RotateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sessiond_v1_RotateResponse__Output>): grpc.ClientUnaryCall;
  Rotate(argument: _sessiond_v1_RotateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sessiond_v1_RotateResponse__Output>): grpc.ClientUnaryCall;
  Rotate(argument: _sessiond_v1_RotateRequest, callback: grpc.requestCallback<_sessiond_v1_RotateResponse__Output>): grpc.ClientUnaryCall;
  rotate(argument: _sessiond_v1_RotateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sessiond_v1_RotateResponse__Output>): grpc.ClientUnaryCall;
  rotate(argument: _sessiond_v1_RotateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sessiond_v1_RotateResponse__Output>): grpc.ClientUnaryCall;
  rotate(argument: _sessiond_v1_RotateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sessiond_v1_RotateResponse__Output>): grpc.ClientUnaryCall;
  rotate(argument: _sessiond_v1_RotateRequest, callback: grpc.requestCallback<_sessiond_v1_RotateResponse__Output>): grpc.ClientUnaryCall;
  
  Set(argument: _sessiond_v1_SetRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sessiond_v1_SetResponse__Output>): grpc.ClientUnaryCall;
  Set(argument: _sessiond_v1_SetRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sessiond_v1_SetResponse__Output>): grpc.ClientUnaryCall;
  Set(argument: _sessiond_v1_SetRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sessiond_v1_SetResponse__Output>): grpc.ClientUnaryCall;
  Set(argument: _sessiond_v1_SetRequest, callback: grpc.requestCallback<_sessiond_v1_SetResponse__Output>): grpc.ClientUnaryCall;
  set(argument: _sessiond_v1_SetRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sessiond_v1_SetResponse__Output>): grpc.ClientUnaryCall;
  set(argument: _sessiond_v1_SetRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sessiond_v1_SetResponse__Output>): grpc.ClientUnaryCall;
  set(argument: _sessiond_v1_SetRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sessiond_v1_SetResponse__Output>): grpc.ClientUnaryCall;
  set(argument: _sessiond_v1_SetRequest, callback: grpc.requestCallback<_sessiond_v1_SetResponse__Output>): grpc.ClientUnaryCall;
  
  Touch(argument: _sessiond_v1_TouchRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sessiond_v1_TouchResponse__Output>): grpc.ClientUnaryCall;
  Touch(argument: _sessiond_v1_TouchRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sessiond_v1_TouchResponse__Output>): grpc.ClientUnaryCall;
  Touch(argument: _sessiond_v1_TouchRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sessiond_v1_TouchResponse__Output>): grpc.ClientUnaryCall;
  Touch(argument: _sessiond_v1_TouchRequest, callback: grpc.requestCallback<_sessiond_v1_TouchResponse__Output>): grpc.ClientUnaryCall;
  touch(argument: _sessiond_v1_TouchRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sessiond_v1_TouchResponse__Output>): grpc.ClientUnaryCall;
  touch(argument: _sessiond_v1_TouchRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sessiond_v1_TouchResponse__Output>): grpc.ClientUnaryCall;
  touch(argument: _sessiond_v1_TouchRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sessiond_v1_TouchResponse__Output>): grpc.ClientUnaryCall;
  touch(argument: _sessiond_v1_TouchRequest, callback: grpc.requestCallback<_sessiond_v1_TouchResponse__Output>): grpc.ClientUnaryCall;
  
  Watch(argument: _sessiond_v1_WatchRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_sessiond_v1_WatchEvent__Output>;
  Watch(argument: _sessiond_v1_WatchRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_sessiond_v1_WatchEvent__Output>;
  watch(argument: _sessiond_v1_WatchRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_sessiond_v1_WatchEvent__Output>;
  watch(argument: _sessiond_v1_WatchRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_sessiond_v1_WatchEvent__Output>;
  
}

export interface SessionServiceHandlers extends grpc.UntypedServiceImplementation {
  BindUser: grpc.handleUnaryCall<_sessiond_v1_BindUserRequest__Output, _sessiond_v1_BindUserResponse>;
  
  ClearSessions: grpc.handleUnaryCall<_sessiond_v1_ClearSessionsRequest__Output, _sessiond_v1_ClearSessionsResponse>;
  
  CountSessions: grpc.handleUnaryCall<_sessiond_v1_CountSessionsRequest__Output, _sessiond_v1_CountSessionsResponse>;
  
  Create: grpc.handleUnaryCall<_sessiond_v1_CreateRequest__Output, _sessiond_v1_CreateResponse>;
  
  Flush: grpc.handleUnaryCall<_sessiond_v1_FlushRequest__Output, _sessiond_v1_FlushResponse>;
  
  Get: grpc.handleUnaryCall<_sessiond_v1_GetRequest__Output, _sessiond_v1_GetResponse>;
  
  ListUserSessions: grpc.handleUnaryCall<_sessiond_v1_ListUserSessionsRequest__Output, _sessiond_v1_ListUserSessionsResponse>;
  
  Pipeline: grpc.handleBidiStreamingCall<_sessiond_v1_PipelineRequest__Output, _sessiond_v1_PipelineResponse>;
  
  RevokeSession: grpc.handleUnaryCall<_sessiond_v1_RevokeSessionRequest__Output, _sessiond_v1_RevokeSessionResponse>;
  
  RevokeUserSessions: grpc.handleUnaryCall<_sessiond_v1_RevokeUserSessionsRequest__Output, _sessiond_v1_RevokeUserSessionsResponse>;
  
  Rotate: grpc.handleUnaryCall<_sessiond_v1_RotateRequest__Output, _sessiond_v1_RotateResponse>;
  
  Set: grpc.handleUnaryCall<_sessiond_v1_SetRequest__Output, _sessiond_v1_SetResponse>;
  
  Touch: grpc.handleUnaryCall<_sessiond_v1_TouchRequest__Output, _sessiond_v1_TouchResponse>;
  
  Watch: grpc.handleServerStreamingCall<_sessiond_v1_WatchRequest__Output, _sessiond_v1_WatchEvent>;
  
}

export interface SessionServiceDefinition extends grpc.ServiceDefinition {
  BindUser: MethodDefinition<_sessiond_v1_BindUserRequest, _sessiond_v1_BindUserResponse, _sessiond_v1_BindUserRequest__Output, _sessiond_v1_BindUserResponse__Output>
  ClearSessions: MethodDefinition<_sessiond_v1_ClearSessionsRequest, _sessiond_v1_ClearSessionsResponse, _sessiond_v1_ClearSessionsRequest__Output, _sessiond_v1_ClearSessionsResponse__Output>
  CountSessions: MethodDefinition<_sessiond_v1_CountSessionsRequest, _sessiond_v1_CountSessionsResponse, _sessiond_v1_CountSessionsRequest__Output, _sessiond_v1_CountSessionsResponse__Output>
  Create: MethodDefinition<_sessiond_v1_CreateRequest, _sessiond_v1_CreateResponse, _sessiond_v1_CreateRequest__Output, _sessiond_v1_CreateResponse__Output>
  Flush: MethodDefinition<_sessiond_v1_FlushRequest, _sessiond_v1_FlushResponse, _sessiond_v1_FlushRequest__Output, _sessiond_v1_FlushResponse__Output>
  Get: MethodDefinition<_sessiond_v1_GetRequest, _sessiond_v1_GetResponse, _sessiond_v1_GetRequest__Output, _sessiond_v1_GetResponse__Output>
  ListUserSessions: MethodDefinition<_sessiond_v1_ListUserSessionsRequest, _sessiond_v1_ListUserSessionsResponse, _sessiond_v1_ListUserSessionsRequest__Output, _sessiond_v1_ListUserSessionsResponse__Output>
  Pipeline: MethodDefinition<_sessiond_v1_PipelineRequest, _sessiond_v1_PipelineResponse, _sessiond_v1_PipelineRequest__Output, _sessiond_v1_PipelineResponse__Output>
  RevokeSession: MethodDefinition<_sessiond_v1_RevokeSessionRequest, _sessiond_v1_RevokeSessionResponse, _sessiond_v1_RevokeSessionRequest__Output, _sessiond_v1_RevokeSessionResponse__Output>
  RevokeUserSessions: MethodDefinition<_sessiond_v1_RevokeUserSessionsRequest, _sessiond_v1_RevokeUserSessionsResponse, _sessiond_v1_RevokeUserSessionsRequest__Output, _sessiond_v1_RevokeUserSessionsResponse__Output>
  Rotate: MethodDefinition<_sessiond_v1_RotateRequest, _sessiond_v1_RotateResponse, _sessiond_v1_RotateRequest__Output, _sessiond_v1_RotateResponse__Output>
  Set: MethodDefinition<_sessiond_v1_SetRequest, _sessiond_v1_SetResponse, _sessiond_v1_SetRequest__Output, _sessiond_v1_SetResponse__Output>
  Touch: MethodDefinition<_sessiond_v1_TouchRequest, _sessiond_v1_TouchResponse, _sessiond_v1_TouchRequest__Output, _sessiond_v1_TouchResponse__Output>
  Watch: MethodDefinition<_sessiond_v1_WatchRequest, _sessiond_v1_WatchEvent, _sessiond_v1_WatchRequest__Output, _sessiond_v1_WatchEvent__Output>
}
