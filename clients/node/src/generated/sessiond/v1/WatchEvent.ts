// Original file: proto/sessiond/v1/sessiond.proto

import type { WatchResync as _sessiond_v1_WatchResync, WatchResync__Output as _sessiond_v1_WatchResync__Output } from '../../sessiond/v1/WatchResync';
import type { WatchChanged as _sessiond_v1_WatchChanged, WatchChanged__Output as _sessiond_v1_WatchChanged__Output } from '../../sessiond/v1/WatchChanged';
import type { WatchEnded as _sessiond_v1_WatchEnded, WatchEnded__Output as _sessiond_v1_WatchEnded__Output } from '../../sessiond/v1/WatchEnded';

export interface WatchEvent {
  'index'?: (number);
  'handle'?: (string);
  'resync'?: (_sessiond_v1_WatchResync | null);
  'changed'?: (_sessiond_v1_WatchChanged | null);
  'ended'?: (_sessiond_v1_WatchEnded | null);
  'event'?: "resync"|"changed"|"ended";
}

export interface WatchEvent__Output {
  'index': (number);
  'handle': (string);
  'resync'?: (_sessiond_v1_WatchResync__Output | null);
  'changed'?: (_sessiond_v1_WatchChanged__Output | null);
  'ended'?: (_sessiond_v1_WatchEnded__Output | null);
  'event'?: "resync"|"changed"|"ended";
}
