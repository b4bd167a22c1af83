// Original file: proto/sessiond/v1/sessiond.proto

import type { Duration as _google_protobuf_Duration, Duration__Output as _google_protobuf_Duration__Output } from '../../google/protobuf/Duration';
import type { Long } from '@grpc/proto-loader';

export interface SetRequest {
  'id'?: (string);
  'upsert'?: ({[key: string]: string});
  'remove'?: (string)[];
  'expected_version'?: (number | string | Long);
  'create_if_missing'?: (boolean);
  'replace_all'?: (boolean);
  'idle_timeout'?: (_google_protobuf_Duration | null);
  '_expected_version'?: "expected_version";
}

export interface SetRequest__Output {
  'id': (string);
  'upsert': ({[key: string]: string});
  'remove': (string)[];
  'expected_version'?: (number);
  'create_if_missing': (boolean);
  'replace_all': (boolean);
  'idle_timeout': (_google_protobuf_Duration__Output | null);
  '_expected_version'?: "expected_version";
}
