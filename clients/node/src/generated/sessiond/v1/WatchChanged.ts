// Original file: proto/sessiond/v1/sessiond.proto

import type { Long } from '@grpc/proto-loader';

export interface WatchChanged {
  'version'?: (number | string | Long);
}

export interface WatchChanged__Output {
  'version': (number);
}
