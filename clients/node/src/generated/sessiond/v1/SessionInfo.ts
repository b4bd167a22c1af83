// Original file: proto/sessiond/v1/sessiond.proto

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';
import type { Duration as _google_protobuf_Duration, Duration__Output as _google_protobuf_Duration__Output } from '../../google/protobuf/Duration';
import type { Long } from '@grpc/proto-loader';

export interface SessionInfo {
  'id'?: (string);
  'version'?: (number | string | Long);
  'created_at'?: (_google_protobuf_Timestamp | null);
  'expires_at'?: (_google_protobuf_Timestamp | null);
  'idle_timeout'?: (_google_protobuf_Duration | null);
}

export interface SessionInfo__Output {
  'id': (string);
  'version': (number);
  'created_at': (_google_protobuf_Timestamp__Output | null);
  'expires_at': (_google_protobuf_Timestamp__Output | null);
  'idle_timeout': (_google_protobuf_Duration__Output | null);
}
