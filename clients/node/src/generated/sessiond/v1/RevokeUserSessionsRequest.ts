// Original file: proto/sessiond/v1/sessiond.proto


export interface RevokeUserSessionsRequest {
  'user_id'?: (string);
  'except_id'?: (string);
}

export interface RevokeUserSessionsRequest__Output {
  'user_id': (string);
  'except_id': (string);
}
