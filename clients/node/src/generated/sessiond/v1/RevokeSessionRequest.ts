// Original file: proto/sessiond/v1/sessiond.proto


export interface RevokeSessionRequest {
  'handle'?: (string);
  'user_id'?: (string);
}

export interface RevokeSessionRequest__Output {
  'handle': (string);
  'user_id': (string);
}
