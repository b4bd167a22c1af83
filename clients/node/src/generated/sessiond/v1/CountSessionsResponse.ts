// Original file: proto/sessiond/v1/sessiond.proto

import type { Long } from '@grpc/proto-loader';

export interface CountSessionsResponse {
  'count'?: (number | string | Long);
}

export interface CountSessionsResponse__Output {
  'count': (number);
}
