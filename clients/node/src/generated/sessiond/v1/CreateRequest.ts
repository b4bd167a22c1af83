// Original file: proto/sessiond/v1/sessiond.proto

import type { Duration as _google_protobuf_Duration, Duration__Output as _google_protobuf_Duration__Output } from '../../google/protobuf/Duration';
import type { UserBinding as _sessiond_v1_UserBinding, UserBinding__Output as _sessiond_v1_UserBinding__Output } from '../../sessiond/v1/UserBinding';

export interface CreateRequest {
  'data'?: ({[key: string]: string});
  'idle_timeout'?: (_google_protobuf_Duration | null);
  'user'?: (_sessiond_v1_UserBinding | null);
}

export interface CreateRequest__Output {
  'data': ({[key: string]: string});
  'idle_timeout': (_google_protobuf_Duration__Output | null);
  'user': (_sessiond_v1_UserBinding__Output | null);
}
