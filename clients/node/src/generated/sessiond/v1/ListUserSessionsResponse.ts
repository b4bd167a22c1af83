// Original file: proto/sessiond/v1/sessiond.proto

import type { UserSessionInfo as _sessiond_v1_UserSessionInfo, UserSessionInfo__Output as _sessiond_v1_UserSessionInfo__Output } from '../../sessiond/v1/UserSessionInfo';

export interface ListUserSessionsResponse {
  'sessions'?: (_sessiond_v1_UserSessionInfo)[];
}

export interface ListUserSessionsResponse__Output {
  'sessions': (_sessiond_v1_UserSessionInfo__Output)[];
}
