// Original file: proto/sessiond/v1/sessiond.proto

import type { SessionInfo as _sessiond_v1_SessionInfo, SessionInfo__Output as _sessiond_v1_SessionInfo__Output } from '../../sessiond/v1/SessionInfo';

export interface GetResponse {
  'session'?: (_sessiond_v1_SessionInfo | null);
  'data'?: ({[key: string]: string});
}

export interface GetResponse__Output {
  'session': (_sessiond_v1_SessionInfo__Output | null);
  'data': ({[key: string]: string});
}
