// Original file: proto/sessiond/v1/sessiond.proto

import type { Long } from '@grpc/proto-loader';

export interface ClearSessionsResponse {
  'cleared'?: (number | string | Long);
}

export interface ClearSessionsResponse__Output {
  'cleared': (number);
}
