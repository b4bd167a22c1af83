// Original file: proto/sessiond/v1/sessiond.proto

import type { Duration as _google_protobuf_Duration, Duration__Output as _google_protobuf_Duration__Output } from '../../google/protobuf/Duration';

export interface TouchRequest {
  'id'?: (string);
  'idle_timeout'?: (_google_protobuf_Duration | null);
}

export interface TouchRequest__Output {
  'id': (string);
  'idle_timeout': (_google_protobuf_Duration__Output | null);
}
