import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { Duration as _google_protobuf_Duration, Duration__Output as _google_protobuf_Duration__Output } from './google/protobuf/Duration';
import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from './google/protobuf/Timestamp';
import type { BindUserRequest as _sessiond_v1_BindUserRequest, BindUserRequest__Output as _sessiond_v1_BindUserRequest__Output } from './sessiond/v1/BindUserRequest';
import type { BindUserResponse as _sessiond_v1_BindUserResponse, BindUserResponse__Output as _sessiond_v1_BindUserResponse__Output } from './sessiond/v1/BindUserResponse';
import type { ClearSessionsRequest as _sessiond_v1_ClearSessionsRequest, ClearSessionsRequest__Output as _sessiond_v1_ClearSessionsRequest__Output } from './sessiond/v1/ClearSessionsRequest';
import type { ClearSessionsResponse as _sessiond_v1_ClearSessionsResponse, ClearSessionsResponse__Output as _sessiond_v1_ClearSessionsResponse__Output } from './sessiond/v1/ClearSessionsResponse';
import type { CountSessionsRequest as _sessiond_v1_CountSessionsRequest, CountSessionsRequest__Output as _sessiond_v1_CountSessionsRequest__Output } from './sessiond/v1/CountSessionsRequest';
import type { CountSessionsResponse as _sessiond_v1_CountSessionsResponse, CountSessionsResponse__Output as _sessiond_v1_CountSessionsResponse__Output } from './sessiond/v1/CountSessionsResponse';
import type { CreateRequest as _sessiond_v1_CreateRequest, CreateRequest__Output as _sessiond_v1_CreateRequest__Output } from './sessiond/v1/CreateRequest';
import type { CreateResponse as _sessiond_v1_CreateResponse, CreateResponse__Output as _sessiond_v1_CreateResponse__Output } from './sessiond/v1/CreateResponse';
import type { FlushRequest as _sessiond_v1_FlushRequest, FlushRequest__Output as _sessiond_v1_FlushRequest__Output } from './sessiond/v1/FlushRequest';
import type { FlushResponse as _sessiond_v1_FlushResponse, FlushResponse__Output as _sessiond_v1_FlushResponse__Output } from './sessiond/v1/FlushResponse';
import type { GetRequest as _sessiond_v1_GetRequest, GetRequest__Output as _sessiond_v1_GetRequest__Output } from './sessiond/v1/GetRequest';
import type { GetResponse as _sessiond_v1_GetResponse, GetResponse__Output as _sessiond_v1_GetResponse__Output } from './sessiond/v1/GetResponse';
import type { ListUserSessionsRequest as _sessiond_v1_ListUserSessionsRequest, ListUserSessionsRequest__Output as _sessiond_v1_ListUserSessionsRequest__Output } from './sessiond/v1/ListUserSessionsRequest';
import type { ListUserSessionsResponse as _sessiond_v1_ListUserSessionsResponse, ListUserSessionsResponse__Output as _sessiond_v1_ListUserSessionsResponse__Output } from './sessiond/v1/ListUserSessionsResponse';
import type { PipelineError as _sessiond_v1_PipelineError, PipelineError__Output as _sessiond_v1_PipelineError__Output } from './sessiond/v1/PipelineError';
import type { PipelineRequest as _sessiond_v1_PipelineRequest, PipelineRequest__Output as _sessiond_v1_PipelineRequest__Output } from './sessiond/v1/PipelineRequest';
import type { PipelineResponse as _sessiond_v1_PipelineResponse, PipelineResponse__Output as _sessiond_v1_PipelineResponse__Output } from './sessiond/v1/PipelineResponse';
import type { RevokeSessionRequest as _sessiond_v1_RevokeSessionRequest, RevokeSessionRequest__Output as _sessiond_v1_RevokeSessionRequest__Output } from './sessiond/v1/RevokeSessionRequest';
import type { RevokeSessionResponse as _sessiond_v1_RevokeSessionResponse, RevokeSessionResponse__Output as _sessiond_v1_RevokeSessionResponse__Output } from './sessiond/v1/RevokeSessionResponse';
import type { RevokeUserSessionsRequest as _sessiond_v1_RevokeUserSessionsRequest, RevokeUserSessionsRequest__Output as _sessiond_v1_RevokeUserSessionsRequest__Output } from './sessiond/v1/RevokeUserSessionsRequest';
import type { RevokeUserSessionsResponse as _sessiond_v1_RevokeUserSessionsResponse, RevokeUserSessionsResponse__Output as _sessiond_v1_RevokeUserSessionsResponse__Output } from './sessiond/v1/RevokeUserSessionsResponse';
import type { RotateRequest as _sessiond_v1_RotateRequest, RotateRequest__Output as _sessiond_v1_RotateRequest__Output } from './sessiond/v1/RotateRequest';
import type { RotateResponse as _sessiond_v1_RotateResponse, RotateResponse__Output as _sessiond_v1_RotateResponse__Output } from './sessiond/v1/RotateResponse';
import type { SessionInfo as _sessiond_v1_SessionInfo, SessionInfo__Output as _sessiond_v1_SessionInfo__Output } from './sessiond/v1/SessionInfo';
import type { SessionServiceClient as _sessiond_v1_SessionServiceClient, SessionServiceDefinition as _sessiond_v1_SessionServiceDefinition } from './sessiond/v1/SessionService';
import type { SetRequest as _sessiond_v1_SetRequest, SetRequest__Output as _sessiond_v1_SetRequest__Output } from './sessiond/v1/SetRequest';
import type { SetResponse as _sessiond_v1_SetResponse, SetResponse__Output as _sessiond_v1_SetResponse__Output } from './sessiond/v1/SetResponse';
import type { TouchRequest as _sessiond_v1_TouchRequest, TouchRequest__Output as _sessiond_v1_TouchRequest__Output } from './sessiond/v1/TouchRequest';
import type { TouchResponse as _sessiond_v1_TouchResponse, TouchResponse__Output as _sessiond_v1_TouchResponse__Output } from './sessiond/v1/TouchResponse';
import type { UserBinding as _sessiond_v1_UserBinding, UserBinding__Output as _sessiond_v1_UserBinding__Output } from './sessiond/v1/UserBinding';
import type { UserSessionInfo as _sessiond_v1_UserSessionInfo, UserSessionInfo__Output as _sessiond_v1_UserSessionInfo__Output } from './sessiond/v1/UserSessionInfo';
import type { WatchChanged as _sessiond_v1_WatchChanged, WatchChanged__Output as _sessiond_v1_WatchChanged__Output } from './sessiond/v1/WatchChanged';
import type { WatchEnded as _sessiond_v1_WatchEnded, WatchEnded__Output as _sessiond_v1_WatchEnded__Output } from './sessiond/v1/WatchEnded';
import type { WatchEvent as _sessiond_v1_WatchEvent, WatchEvent__Output as _sessiond_v1_WatchEvent__Output } from './sessiond/v1/WatchEvent';
import type { WatchRequest as _sessiond_v1_WatchRequest, WatchRequest__Output as _sessiond_v1_WatchRequest__Output } from './sessiond/v1/WatchRequest';
import type { WatchResync as _sessiond_v1_WatchResync, WatchResync__Output as _sessiond_v1_WatchResync__Output } from './sessiond/v1/WatchResync';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  google: {
    protobuf: {
      Duration: MessageTypeDefinition<_google_protobuf_Duration, _google_protobuf_Duration__Output>
      Timestamp: MessageTypeDefinition<_google_protobuf_Timestamp, _google_protobuf_Timestamp__Output>
    }
  }
  sessiond: {
    v1: {
      BindUserRequest: MessageTypeDefinition<_sessiond_v1_BindUserRequest, _sessiond_v1_BindUserRequest__Output>
      BindUserResponse: MessageTypeDefinition<_sessiond_v1_BindUserResponse, _sessiond_v1_BindUserResponse__Output>
      ClearSessionsRequest: MessageTypeDefinition<_sessiond_v1_ClearSessionsRequest, _sessiond_v1_ClearSessionsRequest__Output>
      ClearSessionsResponse: MessageTypeDefinition<_sessiond_v1_ClearSessionsResponse, _sessiond_v1_ClearSessionsResponse__Output>
      CountSessionsRequest: MessageTypeDefinition<_sessiond_v1_CountSessionsRequest, _sessiond_v1_CountSessionsRequest__Output>
      CountSessionsResponse: MessageTypeDefinition<_sessiond_v1_CountSessionsResponse, _sessiond_v1_CountSessionsResponse__Output>
      CreateRequest: MessageTypeDefinition<_sessiond_v1_CreateRequest, _sessiond_v1_CreateRequest__Output>
      CreateResponse: MessageTypeDefinition<_sessiond_v1_CreateResponse, _sessiond_v1_CreateResponse__Output>
      FlushRequest: MessageTypeDefinition<_sessiond_v1_FlushRequest, _sessiond_v1_FlushRequest__Output>
      FlushResponse: MessageTypeDefinition<_sessiond_v1_FlushResponse, _sessiond_v1_FlushResponse__Output>
      GetRequest: MessageTypeDefinition<_sessiond_v1_GetRequest, _sessiond_v1_GetRequest__Output>
      GetResponse: MessageTypeDefinition<_sessiond_v1_GetResponse, _sessiond_v1_GetResponse__Output>
      ListUserSessionsRequest: MessageTypeDefinition<_sessiond_v1_ListUserSessionsRequest, _sessiond_v1_ListUserSessionsRequest__Output>
      ListUserSessionsResponse: MessageTypeDefinition<_sessiond_v1_ListUserSessionsResponse, _sessiond_v1_ListUserSessionsResponse__Output>
      PipelineError: MessageTypeDefinition<_sessiond_v1_PipelineError, _sessiond_v1_PipelineError__Output>
      PipelineRequest: MessageTypeDefinition<_sessiond_v1_PipelineRequest, _sessiond_v1_PipelineRequest__Output>
      PipelineResponse: MessageTypeDefinition<_sessiond_v1_PipelineResponse, _sessiond_v1_PipelineResponse__Output>
      RevokeSessionRequest: MessageTypeDefinition<_sessiond_v1_RevokeSessionRequest, _sessiond_v1_RevokeSessionRequest__Output>
      RevokeSessionResponse: MessageTypeDefinition<_sessiond_v1_RevokeSessionResponse, _sessiond_v1_RevokeSessionResponse__Output>
      RevokeUserSessionsRequest: MessageTypeDefinition<_sessiond_v1_RevokeUserSessionsRequest, _sessiond_v1_RevokeUserSessionsRequest__Output>
      RevokeUserSessionsResponse: MessageTypeDefinition<_sessiond_v1_RevokeUserSessionsResponse, _sessiond_v1_RevokeUserSessionsResponse__Output>
      RotateRequest: MessageTypeDefinition<_sessiond_v1_RotateRequest, _sessiond_v1_RotateRequest__Output>
      RotateResponse: MessageTypeDefinition<_sessiond_v1_RotateResponse, _sessiond_v1_RotateResponse__Output>
      SessionInfo: MessageTypeDefinition<_sessiond_v1_SessionInfo, _sessiond_v1_SessionInfo__Output>
      SessionService: SubtypeConstructor<typeof grpc.Client, _sessiond_v1_SessionServiceClient> & { service: _sessiond_v1_SessionServiceDefinition }
      SetRequest: MessageTypeDefinition<_sessiond_v1_SetRequest, _sessiond_v1_SetRequest__Output>
      SetResponse: MessageTypeDefinition<_sessiond_v1_SetResponse, _sessiond_v1_SetResponse__Output>
      TouchRequest: MessageTypeDefinition<_sessiond_v1_TouchRequest, _sessiond_v1_TouchRequest__Output>
      TouchResponse: MessageTypeDefinition<_sessiond_v1_TouchResponse, _sessiond_v1_TouchResponse__Output>
      UserBinding: MessageTypeDefinition<_sessiond_v1_UserBinding, _sessiond_v1_UserBinding__Output>
      UserSessionInfo: MessageTypeDefinition<_sessiond_v1_UserSessionInfo, _sessiond_v1_UserSessionInfo__Output>
      WatchChanged: MessageTypeDefinition<_sessiond_v1_WatchChanged, _sessiond_v1_WatchChanged__Output>
      WatchEnded: MessageTypeDefinition<_sessiond_v1_WatchEnded, _sessiond_v1_WatchEnded__Output>
      WatchEvent: MessageTypeDefinition<_sessiond_v1_WatchEvent, _sessiond_v1_WatchEvent__Output>
      WatchRequest: MessageTypeDefinition<_sessiond_v1_WatchRequest, _sessiond_v1_WatchRequest__Output>
      WatchResync: MessageTypeDefinition<_sessiond_v1_WatchResync, _sessiond_v1_WatchResync__Output>
    }
  }
}

