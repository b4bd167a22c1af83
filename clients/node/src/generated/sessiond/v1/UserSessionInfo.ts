// Original file: proto/sessiond/v1/sessiond.proto

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';

export interface UserSessionInfo {
  'handle'?: (string);
  'created_at'?: (_google_protobuf_Timestamp | null);
  'last_seen'?: (_google_protobuf_Timestamp | null);
  'expires_at'?: (_google_protobuf_Timestamp | null);
  'user_agent'?: (string);
  'ip'?: (string);
  'current'?: (boolean);
}

export interface UserSessionInfo__Output {
  'handle': (string);
  'created_at': (_google_protobuf_Timestamp__Output | null);
  'last_seen': (_google_protobuf_Timestamp__Output | null);
  'expires_at': (_google_protobuf_Timestamp__Output | null);
  'user_agent': (string);
  'ip': (string);
  'current': (boolean);
}
