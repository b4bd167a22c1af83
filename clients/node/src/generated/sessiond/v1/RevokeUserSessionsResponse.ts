// Original file: proto/sessiond/v1/sessiond.proto

import type { Long } from '@grpc/proto-loader';

export interface RevokeUserSessionsResponse {
  'revoked'?: (number | string | Long);
}

export interface RevokeUserSessionsResponse__Output {
  'revoked': (number);
}
