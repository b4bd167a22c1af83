// Original file: proto/sessiond/v1/sessiond.proto


// Original file: proto/sessiond/v1/sessiond.proto

export const _sessiond_v1_WatchEnded_Reason = {
  REASON_UNSPECIFIED: 'REASON_UNSPECIFIED',
  REASON_FLUSHED: 'REASON_FLUSHED',
  REASON_EXPIRED: 'REASON_EXPIRED',
  REASON_ROTATED: 'REASON_ROTATED',
  REASON_REVOKED: 'REASON_REVOKED',
} as const;

export type _sessiond_v1_WatchEnded_Reason =
  | 'REASON_UNSPECIFIED'
  | 0
  | 'REASON_FLUSHED'
  | 1
  | 'REASON_EXPIRED'
  | 2
  | 'REASON_ROTATED'
  | 3
  | 'REASON_REVOKED'
  | 4

export type _sessiond_v1_WatchEnded_Reason__Output = typeof _sessiond_v1_WatchEnded_Reason[keyof typeof _sessiond_v1_WatchEnded_Reason]

export interface WatchEnded {
  'reason'?: (_sessiond_v1_WatchEnded_Reason);
}

export interface WatchEnded__Output {
  'reason': (_sessiond_v1_WatchEnded_Reason__Output);
}
