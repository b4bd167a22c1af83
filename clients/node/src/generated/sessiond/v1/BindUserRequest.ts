// Original file: proto/sessiond/v1/sessiond.proto

import type { UserBinding as _sessiond_v1_UserBinding, UserBinding__Output as _sessiond_v1_UserBinding__Output } from '../../sessiond/v1/UserBinding';

export interface BindUserRequest {
  'id'?: (string);
  'user'?: (_sessiond_v1_UserBinding | null);
}

export interface BindUserRequest__Output {
  'id': (string);
  'user': (_sessiond_v1_UserBinding__Output | null);
}
